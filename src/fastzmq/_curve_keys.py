"""CURVE key pairs with pyzmq's names: ``curve_keypair()`` and ``curve_public(secret)``.

Keys are X25519 (Curve25519) keys, handed out as 40 bytes of Z85 text (RFC 32), exactly
as ``zmq.curve_keypair``/``zmq.curve_public`` return them. The crypto is libsodium's,
through PyNaCl (``crypto_box_keypair``, ``crypto_scalarmult_base``); nothing here is
hand-written crypto. Without PyNaCl both raise ``ZMQError(ENOTSUP)``, as libzmq's
``zmq_curve_keypair`` does when it was built without CURVE, and ``has("curve")`` is False.
"""

from __future__ import annotations

from typing import Tuple, Union

from fastzmq.constants import Errno
from fastzmq.error import ZMQError
from fastzmq.utils import z85

__all__ = ["curve_keypair", "curve_public"]


def _nacl():
    try:
        import nacl.bindings
    except ImportError:
        raise ZMQError(
            Errno.ENOTSUP,
            "CURVE needs PyNaCl (libsodium): pip install 'fastzmq[curve]' (or PyNaCl)",
        ) from None
    return nacl.bindings


def curve_keypair() -> Tuple[bytes, bytes]:
    """A new CURVE key pair ``(public, secret)``, each 40 bytes of Z85."""
    public, secret = _nacl().crypto_box_keypair()
    return z85.encode(public), z85.encode(secret)


def curve_public(secret_key: Union[str, bytes]) -> bytes:
    """The Z85 public key (40 bytes) belonging to a Z85 ``secret_key`` (40 characters).

    A key of another length is a ``ValueError`` (as pyzmq); text that is not Z85 is
    ``ZMQError(EINVAL)`` (as libzmq's ``zmq_curve_public``)."""
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("utf8")
    if len(secret_key) != 40:
        raise ValueError("secret key must be 40 bytes z85 encoded")
    nacl = _nacl()
    try:
        raw = z85.decode(secret_key)
    except ValueError as exc:
        raise ZMQError(Errno.EINVAL, f"secret key is not Z85: {exc}") from None
    return z85.encode(nacl.crypto_scalarmult_base(raw))
