"""The ZAP handler (RFC 27) with pyzmq's ``zmq.auth.Authenticator`` API and policies.

Theory of operation
-------------------
A server socket set up for PLAIN or CURVE (or NULL with a ``zap_domain``) asks the ZAP
handler of its context, a REP socket bound at ``inproc://zeromq.zap.01``, about each peer
before the handshake completes. A request is ``version ("1.0") | request id | domain |
address | identity | mechanism | credentials...``; the reply is ``version | request id |
status code | status text | user id | metadata``. The status code decides: 200 lets the
peer in, 400 refuses it, 500 says the handler itself failed (a refusal too).

:class:`Authenticator` owns that REP socket and decides as pyzmq's does, in this order:

1. The IP policy: with an ``allow`` list, an address not on it is refused; with a
   ``deny`` list, an address on it is refused (the two are exclusive).
2. The mechanism: NULL passes (unless the IP policy refused it); PLAIN needs the
   username and password configured for the request's domain (an empty domain means
   ``"*"``; a domain never configured is refused, there is no fall-back to ``"*"``);
   CURVE passes any key after ``configure_curve(location=CURVE_ALLOW_ANY)``, else asks
   the credentials provider of the domain if any is configured, else looks the key up in
   the certificates loaded for the domain; GSSAPI (authenticated by the mechanism itself)
   passes.

Where pyzmq would let something through by accident, this one refuses (security fails
closed): a mechanism it does not know is refused even from an allowed address; a
certificate directory that cannot be read leaves that domain with no keys (pyzmq keeps the
old ones); a credentials provider that raises is a 500 (pyzmq's handler dies and leaves the
server waiting); a request too short to name its id still gets a 400 so the REP socket can
go on. Passwords are compared in constant time and never logged.

The class only answers messages handed to :meth:`handle_zap_message`; the thread, asyncio
and tornado flavours in this package run the receive loop.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable
from typing import Any, Dict, Sequence, Set, Tuple, Union

import fastzmq
from fastzmq.auth.certs import load_certificates
from fastzmq.utils import z85
from fastzmq.zmtp.commands import encode_metadata

__all__ = ["CURVE_ALLOW_ANY", "Authenticator"]

CURVE_ALLOW_ANY = "*"
VERSION = b"1.0"
ZAP_ENDPOINT = "inproc://zeromq.zap.01"

_Reason = Tuple[bool, bytes]


class Authenticator:
    """A ZAP handler: bind it with :meth:`start`, then feed :meth:`handle_zap_message` the
    requests read from ``zap_socket`` (the subclasses in :mod:`fastzmq.auth.thread`,
    :mod:`fastzmq.auth.asyncio` and :mod:`fastzmq.auth.ioloop` do the reading).

    Until a policy is configured, NULL peers are let in and PLAIN and CURVE peers are
    refused."""

    def __init__(
        self,
        context: fastzmq.Context | None = None,
        encoding: str = "utf-8",
        log: Any = None,
    ) -> None:
        self.context = context or fastzmq.Context.instance()
        self.encoding = encoding
        self.allow_any = False
        self.credentials_providers: Dict[str, Any] = {}
        self.zap_socket: Any = None
        self._allowed: Set[str] = set()
        self._denied: Set[str] = set()
        self.passwords: Dict[str, Dict[Any, Any]] = {}  # domain -> {username: password}
        self.certs: Dict[str, Dict[bytes, Any]] = {}  # domain -> {Z85 public key: True}
        self.log = log or logging.getLogger("zmq.auth")

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """Bind the ZAP socket (a REP at ``inproc://zeromq.zap.01`` in ``context``)."""
        sock = self.context.socket(fastzmq.REP, socket_class=fastzmq.Socket)
        sock.linger = 1
        try:
            sock.bind(ZAP_ENDPOINT)
        except BaseException:
            sock.close(0)
            raise
        self.zap_socket = sock
        self.log.debug("Starting")

    def stop(self) -> None:
        """Close the ZAP socket; its context then has no ZAP handler."""
        if self.zap_socket is not None:
            self.zap_socket.close()
        self.zap_socket = None

    # ------------------------------------------------------------------ policies
    def allow(self, *addresses: str) -> None:
        """Let in only these IP addresses (each still goes through PLAIN/CURVE checks).
        Exclusive with :meth:`deny`: ValueError if a deny list exists."""
        if self._denied:
            raise ValueError("Only use allow or deny, not both")
        self.log.debug("Allowing %s", ",".join(addresses))
        self._allowed.update(addresses)

    def deny(self, *addresses: str) -> None:
        """Refuse these IP addresses. Exclusive with :meth:`allow`."""
        if self._allowed:
            raise ValueError("Only use allow or deny, not both")
        self.log.debug("Denying %s", ",".join(addresses))
        self._denied.update(addresses)

    def configure_plain(self, domain: str = "*", passwords: Dict | None = None) -> None:
        """PLAIN for ``domain`` (``"*"``: requests with no domain): ``passwords`` maps
        username to password. The dict is kept by reference, so later edits take effect."""
        if passwords:
            self.passwords[domain] = passwords
        self.log.debug("Configure plain: %s", domain)

    def configure_curve(
        self, domain: str = "*", location: Union[str, os.PathLike[str]] = "."
    ) -> None:
        """CURVE for ``domain``: the client keys allowed are those of the ``*.key``
        certificates in directory ``location``, read now (call again after changing it).
        ``location=CURVE_ALLOW_ANY`` lets in every key, for every domain (encryption
        without authentication)."""
        self.log.debug("Configure curve: %s[%s]", domain, location)
        if location == CURVE_ALLOW_ANY:
            self.allow_any = True
            return
        self.allow_any = False
        try:
            self.certs[domain] = load_certificates(location)
        except Exception as e:
            self.certs[domain] = {}  # fail closed: no key of this domain is trusted
            self.log.error("Failed to load CURVE certs from %s: %s", location, e)

    def configure_curve_callback(self, domain: str = "*", credentials_provider: Any = None) -> None:
        """CURVE for ``domain`` decided by ``credentials_provider.callback(domain, key)``
        (``key``: the client's public key as Z85 bytes), which returns a truth value or
        an awaitable of one. While any provider is configured, certificates are not
        consulted."""
        self.allow_any = False
        if credentials_provider is not None:
            self.credentials_providers[domain] = credentials_provider
        else:
            self.log.error("None credentials_provider provided for domain:%s", domain)

    def configure_gssapi(self, domain: str = "*", location: str | None = None) -> None:
        """Nothing to configure: GSSAPI peers are authenticated by their mechanism (which
        fastzmq does not implement; a libzmq peer could still send such requests)."""

    def curve_user_id(self, client_public_key: bytes) -> str:
        """The User-Id of an accepted CURVE client: by default its key in Z85. Override
        (or assign) to map keys to names."""
        return z85.encode(client_public_key).decode("ascii")

    # ------------------------------------------------------------------ requests
    async def handle_zap_message(self, msg: Sequence[bytes]) -> None:
        """Answer one ZAP request (its frames, as read from ``zap_socket``)."""
        msg = [bytes(frame) for frame in msg]
        if len(msg) < 6:
            self.log.error("Invalid ZAP message, not enough frames: %r", msg)
            request_id = msg[1] if len(msg) >= 2 else b""
            self._send_zap_reply(request_id, b"400", b"Not enough frames")
            return
        version, request_id, domain_b, address_b, identity, mechanism = msg[:6]
        credentials = msg[6:]
        domain = domain_b.decode(self.encoding, "replace")
        address = address_b.decode(self.encoding, "replace")
        if version != VERSION:
            self.log.error("Invalid ZAP version: %r", msg)
            self._send_zap_reply(request_id, b"400", b"Invalid version")
            return
        self.log.debug(
            "version: %r, request_id: %r, domain: %r, address: %r, identity: %r, mechanism: %r",
            version,
            request_id,
            domain,
            address,
            identity,
            mechanism,
        )
        try:
            allowed, reason, user_id = await self._decide(domain, address, mechanism, credentials)
        except _BadCredentials as e:
            self.log.error("Invalid %s credentials: %d frames", e.mechanism, e.count)
            self._send_zap_reply(request_id, b"400", b"Invalid credentials")
            return
        except Exception as e:
            self.log.exception("ZAP handler failed on %r: %s", mechanism, e)
            self._send_zap_reply(request_id, b"500", b"Internal error")
            return
        if allowed:
            self._send_zap_reply(request_id, b"200", b"OK", user_id)
        else:
            self._send_zap_reply(request_id, b"400", reason)

    async def _decide(
        self, domain: str, address: str, mechanism: bytes, credentials: Sequence[bytes]
    ) -> Tuple[bool, bytes, str]:
        """(allowed, reason if not, user id if so)."""
        allowed, denied, reason = self._address_policy(address)
        if denied:
            return False, reason, ""
        if mechanism == b"NULL":
            self.log.debug("ALLOWED (NULL)")
            return True, b"OK", "anonymous"
        if mechanism == b"PLAIN":
            _expect(mechanism, credentials, 2)
            username, password = credentials
            name = username.decode(self.encoding, "replace")
            ok, reason = self._authenticate_plain(domain, name, password)
            return ok, reason, name
        if mechanism == b"CURVE":
            _expect(mechanism, credentials, 1)
            key = credentials[0]
            if len(key) != 32:
                raise _BadCredentials(mechanism, 1)
            ok, reason = await self._authenticate_curve(domain, key)
            return ok, reason, self.curve_user_id(key) if ok else ""
        if mechanism == b"GSSAPI":
            _expect(mechanism, credentials, 1)
            principal = credentials[0]
            ok, reason = self._authenticate_gssapi(domain, principal)
            return ok, reason, principal.decode("utf8", "replace")
        self.log.debug("DENIED (unknown mechanism %r)", mechanism)
        return False, b"Unknown mechanism", ""

    def _address_policy(self, address: str) -> Tuple[bool, bool, bytes]:
        """(allowed, denied, reason) by the allow/deny lists."""
        if self._allowed:
            if address in self._allowed:
                self.log.debug("PASSED (allowed) address=%s", address)
                return True, False, b""
            self.log.debug("DENIED (not allowed) address=%s", address)
            return False, True, b"Address not allowed"
        if self._denied:
            if address in self._denied:
                self.log.debug("DENIED (denied) address=%s", address)
                return False, True, b"Address denied"
            self.log.debug("PASSED (not denied) address=%s", address)
            return True, False, b""
        return False, False, b""

    def _authenticate_plain(self, domain: str, username: str, password: bytes) -> _Reason:
        if not self.passwords:
            self.log.debug("DENIED (PLAIN) No passwords defined")
            return False, b"No passwords defined"
        domain = domain or "*"
        users = self.passwords.get(domain)
        if users is None:
            reason = b"Invalid domain"
        elif username not in users:
            reason = b"Invalid username"
        else:
            expected = users[username]
            if isinstance(expected, str):
                expected = expected.encode(self.encoding)
            if hmac.compare_digest(bytes(expected), password):
                self.log.debug("ALLOWED (PLAIN) domain=%s username=%s", domain, username)
                return True, b"OK"
            reason = b"Invalid password"
        self.log.debug("DENIED (PLAIN) %s", reason)
        return False, reason

    async def _authenticate_curve(self, domain: str, client_key: bytes) -> _Reason:
        if self.allow_any:
            self.log.debug("ALLOWED (CURVE allow any client)")
            return True, b"OK"
        domain = domain or "*"
        z85_key = z85.encode(client_key)
        if self.credentials_providers:
            provider = self.credentials_providers.get(domain)
            if provider is None:
                return False, b"Unknown domain"
            verdict = provider.callback(domain, z85_key)
            if isinstance(verdict, Awaitable):
                verdict = await verdict
            how = "CURVE auth_callback"
        else:
            keys = self.certs.get(domain)
            if keys is None:
                return False, b"Unknown domain"
            verdict = keys.get(z85_key)
            how = "CURVE"
        status = "ALLOWED" if verdict else "DENIED"
        self.log.debug("%s (%s) domain=%s client_key=%s", status, how, domain, z85_key)
        return (True, b"OK") if verdict else (False, b"Unknown key")

    def _authenticate_gssapi(self, domain: str, principal: bytes) -> _Reason:
        self.log.debug("ALLOWED (GSSAPI) domain=%s principal=%s", domain, principal)
        return True, b"OK"

    def _send_zap_reply(
        self,
        request_id: bytes,
        status_code: bytes,
        status_text: bytes,
        user_id: Union[str, bytes] = "anonymous",
        metadata: Dict[str, bytes] | None = None,
    ) -> None:
        """Send the six-frame reply; a refusal carries no user id."""
        if status_code != b"200":
            user_id = b""
        if isinstance(user_id, str):
            user_id = user_id.encode(self.encoding, "replace")
        self.log.debug("ZAP reply code=%s text=%s", status_code, status_text)
        meta = encode_metadata(metadata) if metadata else b""
        reply = [VERSION, request_id, status_code, status_text, user_id, meta]
        self.zap_socket.send_multipart(reply)


class _BadCredentials(Exception):
    def __init__(self, mechanism: bytes, count: int) -> None:
        super().__init__(mechanism, count)
        self.mechanism = mechanism.decode("ascii", "replace")
        self.count = count


def _expect(mechanism: bytes, credentials: Sequence[bytes], count: int) -> None:
    if len(credentials) != count:
        raise _BadCredentials(mechanism, len(credentials))
