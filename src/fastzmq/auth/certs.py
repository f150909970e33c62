"""CURVE certificates on disk, in the ZPL format czmq and pyzmq use (``zmq.auth.certs``).

Theory of operation
-------------------
A certificate is a small ZPL file (ZeroMQ RFC 4: ``name = value`` lines nested by
four-space indentation, ``#`` comments): a ``metadata`` section of free ``name = value``
pairs, then a ``curve`` section holding ``public-key`` and, in the secret file only,
``secret-key``, each 40 characters of Z85. ``create_certificates`` writes the pair czmq's
``zcert_save`` writes, ``NAME.key`` (public) and ``NAME.key_secret`` (both keys; created
readable by its owner only). ``load_certificate`` parses the ZPL tree, not single lines,
so a ``public-key`` outside the ``curve`` section is not taken for the key, and a key that
is not 40 characters of Z85 is a ``ValueError`` rather than something that fails later
inside a handshake. ``load_certificates`` reads every ``*.key`` file of a directory (czmq's
certificate store layout) into ``{public_key: True}``, what the Authenticator checks.
"""

from __future__ import annotations

import datetime
import glob
import os
import re
from typing import Dict, List, Mapping, Tuple, Union

from fastzmq.utils import z85

__all__ = ["create_certificates", "load_certificate", "load_certificates"]

_PathLike = Union[str, "os.PathLike[str]"]

_PUBLIC_BANNER = (
    "#   ****  Generated on {when} by fastzmq  ****\n"
    "#   ZeroMQ CURVE Public Certificate\n"
    "#   Hand this file to the peers that must recognise you; check its\n"
    "#   contents after any exchange over an untrusted channel.\n"
    "\n"
)
_SECRET_BANNER = (
    "#   ****  Generated on {when} by fastzmq  ****\n"
    "#   ZeroMQ CURVE **Secret** Certificate\n"
    "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
    "\n"
)

# ZPL names: letters, digits and $ - _ @ . & + / (RFC 4)
_NAME = re.compile(r"[A-Za-z0-9$\-_@.&+/]+\Z")
_LINE = re.compile(
    r"(?P<name>[A-Za-z0-9$\-_@.&+/]+)\s*"
    r"(?:=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>(?:[^\s#\"'][^\s#]*)?)))?\s*(?:#.*)?\Z"
)


def _text(value: Union[str, bytes], encoding: str = "utf-8") -> str:
    return value.decode(encoding) if isinstance(value, bytes) else str(value)


def _zpl_value(value: str) -> str:
    if "\n" in value or "\r" in value:
        raise ValueError(f"certificate metadata value {value!r} spans lines")
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    raise ValueError(f"certificate metadata value {value!r} holds both quote characters")


def _write_certificate(
    path: str,
    banner: str,
    public_key: Union[str, bytes],
    secret_key: Union[str, bytes, None] = None,
    metadata: Mapping | None = None,
    private: bool = False,
) -> None:
    lines = [banner, "metadata\n"]
    for key, value in (metadata or {}).items():
        key = _text(key)
        if not _NAME.match(key):
            raise ValueError(f"certificate metadata name {key!r} is not a ZPL name")
        lines.append(f"    {key} = {_zpl_value(_text(value))}\n")
    lines.append("curve\n")
    lines.append(f'    public-key = "{_text(public_key)}"\n')
    if secret_key is not None:
        lines.append(f'    secret-key = "{_text(secret_key)}"\n')
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    if private:
        os.fchmod(fd, 0o600)  # an existing file keeps its mode through O_CREAT
    with open(fd, "w", encoding="utf-8") as f:
        f.write("".join(lines))


def create_certificates(
    key_dir: _PathLike, name: str, metadata: Mapping | None = None
) -> Tuple[str, str]:
    """Make a new key pair and write ``key_dir/name.key`` (public) and
    ``key_dir/name.key_secret`` (public and secret, mode 0600) with ``metadata``;
    returns the two paths ``(public_file, secret_file)``."""
    from fastzmq._curve_keys import curve_keypair

    public_key, secret_key = curve_keypair()
    base = os.path.join(os.fspath(key_dir), name)
    public_file, secret_file = f"{base}.key", f"{base}.key_secret"
    when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    _write_certificate(public_file, _PUBLIC_BANNER.format(when=when), public_key)
    _write_certificate(
        secret_file,
        _SECRET_BANNER.format(when=when),
        public_key,
        secret_key,
        metadata,
        private=True,
    )
    return public_file, secret_file


def _parse_zpl(text: str, filename: str) -> Dict[str, str]:
    """The ``path/to/name -> value`` pairs of a ZPL document (sections have no value)."""
    entries: Dict[str, str] = {}
    stack: List[Tuple[int, str]] = []  # (indent, name) of the enclosing sections
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.expandtabs(4).rstrip()
        body = line.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        indent = len(line) - len(body)
        match = _LINE.match(body)
        if match is None:
            raise ValueError(f"{filename}:{number}: not a ZPL line: {raw.strip()!r}")
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = "/".join([name for _, name in stack] + [match["name"]])
        value = next((v for v in match.group("dq", "sq", "bare") if v is not None), None)
        if value is not None:
            entries[path] = value
        stack.append((indent, match["name"]))
    return entries


def _key(entries: Dict[str, str], name: str, filename: str) -> bytes | None:
    value = entries.get(f"curve/{name}")
    if value is None:
        return None
    key = value.encode("ascii", "replace")
    try:
        valid = len(key) == 40 and len(z85.decode(key)) == 32
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(f"{filename}: curve/{name} is not 40 characters of Z85")
    return key


def load_certificate(filename: _PathLike) -> Tuple[bytes, bytes | None]:
    """``(public_key, secret_key)`` from a certificate file, each Z85 bytes; the secret
    key is None in a public certificate. OSError if the file does not exist,
    ValueError if it holds no valid public key."""
    if not os.path.exists(filename):
        raise OSError(f"Invalid certificate file: {os.fspath(filename)}")
    name = os.fspath(filename)
    with open(filename, encoding="utf-8", errors="replace") as f:
        entries = _parse_zpl(f.read(), name)
    public_key = _key(entries, "public-key", name)
    if public_key is None:
        raise ValueError(f"No public key found in {name}")
    return public_key, _key(entries, "secret-key", name)


def load_certificates(directory: _PathLike = ".") -> Dict[bytes, bool]:
    """``{public_key: True}`` for every ``*.key`` certificate in ``directory``."""
    if not os.path.isdir(directory):
        raise OSError(f"Invalid certificate directory: {os.fspath(directory)}")
    certs: Dict[bytes, bool] = {}
    for path in sorted(glob.glob(os.path.join(glob.escape(os.fspath(directory)), "*.key"))):
        public_key, _ = load_certificate(path)
        certs[public_key] = True
    return certs
