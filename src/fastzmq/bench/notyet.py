"""Which failures mean "this implementation does not have that yet".

A socket type, option, transport or method that an implementation lacks shows as
"not yet" in the table instead of failing the run: AttributeError,
NotImplementedError, ImportError (e.g. fastzmq's compiled core missing), the
library's error with ENOTSUP / EPROTONOSUPPORT, or a timeout during setup.
"""

from __future__ import annotations

import errno
from types import ModuleType

NOT_YET_TYPES = (AttributeError, NotImplementedError, ImportError)


class SetupTimeout(Exception):
    """Nothing arrived before the setup deadline (no connection, no first message)."""


def _unsupported_errnos(z: ModuleType | None) -> set:
    codes = {errno.ENOTSUP, errno.EPROTONOSUPPORT, getattr(errno, "EOPNOTSUPP", -1)}
    for name in ("ENOTSUP", "EPROTONOSUPPORT"):
        value = getattr(z, name, None)
        if isinstance(value, int):
            codes.add(value)
    return codes


def is_not_yet(exc: BaseException, z: ModuleType | None = None) -> bool:
    """True when exc says the implementation lacks a feature (not a bug or a loss)."""
    if isinstance(exc, NOT_YET_TYPES + (SetupTimeout,)):
        return True
    code = getattr(exc, "errno", None)
    return isinstance(code, int) and code in _unsupported_errnos(z)


def describe(exc: BaseException) -> str:
    """A one-line description: type and message."""
    text = str(exc).strip().splitlines()
    return "{}: {}".format(type(exc).__name__, text[0] if text else "")


def classify(exc: BaseException, z: ModuleType | None = None) -> dict:
    """A failed run's result fields for exc."""
    status = "notyet" if is_not_yet(exc, z) else "error"
    return {"status": status, "detail": describe(exc)}
