"""ZAP authentication with pyzmq's ``zmq.auth`` API.

:class:`Authenticator` answers ZAP requests (RFC 27) for the sockets of its context;
:mod:`fastzmq.auth.thread` runs it in a background thread, :mod:`fastzmq.auth.asyncio`
on an asyncio loop, :mod:`fastzmq.auth.ioloop` on tornado's. :mod:`fastzmq.auth.certs`
reads and writes CURVE certificates. ``docs/security.md`` shows them at work.
``curve_keypair``/``curve_public`` are also here for older fastzmq code; they are
``fastzmq.curve_keypair``/``fastzmq.curve_public``.
"""

from fastzmq._curve_keys import curve_keypair, curve_public  # noqa: F401 (older fastzmq code)
from fastzmq.auth.base import CURVE_ALLOW_ANY, Authenticator
from fastzmq.auth.certs import create_certificates, load_certificate, load_certificates

__all__ = [
    "CURVE_ALLOW_ANY",
    "Authenticator",
    "create_certificates",
    "load_certificate",
    "load_certificates",
]
