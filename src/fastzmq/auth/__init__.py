"""Authentication helpers with pyzmq's names: CURVE key pairs, and the ZAP hooks.

``curve_keypair()`` and ``curve_public(secret)`` return Z85-encoded bytes (40 characters
per key), like ``zmq.curve_keypair`` and ``zmq.curve_public``. They use PyNaCl (X25519);
without it they raise :class:`~fastzmq.zmtp.mechanisms.curve.CurveUnavailable`.
The in-process ZAP authenticators live in :mod:`fastzmq.zmtp.zap` and are re-exported here.
"""

from __future__ import annotations

from typing import Tuple, Union

from fastzmq.utils import z85
from fastzmq.zmtp.mechanisms.curve import CurveUnavailable, load_nacl
from fastzmq.zmtp.zap import (
    ZAP_ENDPOINT,
    AuthenticationFailed,
    Authenticator,
    CurveKeyAuthenticator,
    FunctionAuthenticator,
    PasswordAuthenticator,
)

__all__ = [
    "ZAP_ENDPOINT",
    "AuthenticationFailed",
    "Authenticator",
    "CurveKeyAuthenticator",
    "CurveUnavailable",
    "FunctionAuthenticator",
    "PasswordAuthenticator",
    "curve_keypair",
    "curve_public",
]


def curve_keypair() -> Tuple[bytes, bytes]:
    """A new CURVE key pair ``(public, secret)``, each 40 bytes of Z85."""
    public, secret = load_nacl().crypto_box_keypair()
    return z85.encode(public), z85.encode(secret)


def curve_public(secret_key: Union[str, bytes]) -> bytes:
    """The Z85 public key belonging to a Z85 ``secret_key`` (40 characters)."""
    if isinstance(secret_key, str):
        secret_key = secret_key.encode("ascii")
    if len(secret_key) != 40:
        raise ValueError("secret key must be 40 bytes of Z85")
    return z85.encode(load_nacl().crypto_scalarmult_base(z85.decode(secret_key)))
