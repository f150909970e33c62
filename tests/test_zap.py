"""ZAP (RFC 27): request/reply frames, the in-process authenticators, and the wire form
checked against pyzmq's own ZAP handler (``zmq.auth.thread.ThreadAuthenticator``)."""

from __future__ import annotations

import pytest

from fastzmq.zmtp.commands import encode_metadata
from fastzmq.zmtp.zap import (
    STATUS_DENIED,
    STATUS_INTERNAL,
    STATUS_OK,
    STATUS_TEMPORARY,
    ZAP_ENDPOINT,
    AuthenticationFailed,
    CurveKeyAuthenticator,
    FunctionAuthenticator,
    PasswordAuthenticator,
    ZapError,
    ZapReply,
    ZapRequest,
    as_authenticator,
    authenticate,
    encode_reply,
    encode_request,
    parse_reply,
    parse_request,
)

KEY = bytes(range(32))


def plain_request(user=b"admin", password=b"secret", domain=b"global"):
    return ZapRequest(domain, b"127.0.0.1", b"id", b"PLAIN", (user, password), b"7")


def test_request_round_trip_and_frame_order():
    req = plain_request()
    frames = encode_request(req)
    assert frames == [b"1.0", b"7", b"global", b"127.0.0.1", b"id", b"PLAIN", b"admin", b"secret"]
    assert parse_request(frames) == req
    curve = ZapRequest(b"", b"", b"", b"CURVE", (KEY,))
    assert parse_request(encode_request(curve)) == curve
    null = ZapRequest(b"d", b"a", b"", b"NULL")
    assert parse_request(encode_request(null)) == null


@pytest.mark.parametrize(
    "frames, match",
    [
        ([b"1.0", b"1", b"", b"", b""], "at least 6"),
        ([b"2.0", b"1", b"", b"", b"", b"NULL"], "version"),
        ([b"1.0", b"1", b"", b"", b"", b"PLAIN", b"user"], "credential frames"),
        ([b"1.0", b"1", b"", b"", b"", b"NULL", b"extra"], "credential frames"),
        ([b"1.0", b"1", b"", b"", b"", b"CURVE", b"short"], "32-byte"),
    ],
)
def test_request_rejects(frames, match):
    with pytest.raises(ZapError, match=match):
        parse_request(frames)


def test_reply_round_trip():
    reply = ZapReply("200", "OK", b"admin", {"Role": b"root"}, b"7")
    frames = encode_reply(reply)
    assert frames == [b"1.0", b"7", b"200", b"OK", b"admin", encode_metadata({"Role": b"root"})]
    assert parse_reply(frames, b"7") == reply and reply.ok
    assert not ZapReply("400").ok


@pytest.mark.parametrize(
    "frames, match",
    [
        ([b"1.0", b"1", b"200", b"", b""], "6 are required"),
        ([b"0.9", b"1", b"200", b"", b"", b""], "version"),
        ([b"1.0", b"1", b"201", b"", b"", b""], "status code"),
        ([b"1.0", b"1", b"20", b"", b"", b""], "status code"),
        ([b"1.0", b"2", b"200", b"", b"", b""], "request"),
        ([b"1.0", b"1", b"200", b"", b"", b"\x05Ro"], "metadata"),
    ],
)
def test_reply_rejects(frames, match):
    with pytest.raises(ZapError, match=match):
        parse_reply(frames, b"1")


def test_password_authenticator():
    auth = PasswordAuthenticator({"admin": "secret"}, domain="global")
    ok = authenticate(auth, plain_request())
    assert (ok.status_code, ok.user_id, ok.request_id) == (STATUS_OK, b"admin", b"7")
    for bad in (
        plain_request(password=b"nope"),
        plain_request(user=b"eve"),
        plain_request(domain=b"other"),
    ):
        with pytest.raises(AuthenticationFailed) as info:
            authenticate(auth, bad)
        assert info.value.status_code == STATUS_DENIED
        assert info.value.error_reason == "400" and info.value.send_error


def test_curve_key_authenticator_takes_raw_or_z85_keys():
    from fastzmq.utils.z85 import encode

    request = ZapRequest(b"", b"", b"", b"CURVE", (KEY,))
    for keys in ([KEY], [encode(KEY)], [encode(KEY).decode()]):
        assert authenticate(CurveKeyAuthenticator(keys), request).user_id == encode(KEY)
    with pytest.raises(AuthenticationFailed):
        authenticate(CurveKeyAuthenticator([bytes(32)]), request)
    assert authenticate(CurveKeyAuthenticator(allow_any=True), request).ok
    with pytest.raises(AuthenticationFailed):  # PLAIN credentials to a CURVE authenticator
        authenticate(CurveKeyAuthenticator(allow_any=True), plain_request())


def test_function_authenticator_forms_and_arguments():
    seen = []

    def check(domain, address, identity, mechanism, credentials):
        seen.append((domain, address, identity, mechanism, credentials))
        return "200", "user-1", {"X": b"y"}

    reply = authenticate(check, plain_request())
    assert (reply.user_id, reply.metadata) == (b"user-1", {"X": b"y"})
    assert seen == [(b"global", b"127.0.0.1", b"id", b"PLAIN", (b"admin", b"secret"))]
    assert authenticate(lambda *a: 200, plain_request()).user_id == b""
    assert authenticate(lambda *a: ("200", b"u"), plain_request()).user_id == b"u"
    assert isinstance(as_authenticator(check), FunctionAuthenticator)
    assert as_authenticator(None) is None
    with pytest.raises(TypeError):
        as_authenticator(42)


def test_temporary_failure_is_silent_and_broken_handlers_are_500():
    with pytest.raises(AuthenticationFailed) as info:
        authenticate(lambda *a: STATUS_TEMPORARY, plain_request())
    assert info.value.status_code == "300" and not info.value.send_error

    def boom(*args):
        raise RuntimeError("database down")

    for handler in (boom, lambda *a: "999", lambda *a: None):
        with pytest.raises(AuthenticationFailed) as info:
            authenticate(handler, plain_request())
        assert info.value.status_code == STATUS_INTERNAL


# --------------------------------------------------------------------------- vs pyzmq


@pytest.fixture
def pyzmq_auth():
    zmq = pytest.importorskip("zmq")
    thread = pytest.importorskip("zmq.auth.thread")
    ctx = zmq.Context()
    auth = thread.ThreadAuthenticator(ctx)
    auth.start()
    try:
        yield zmq, ctx, auth
    finally:
        auth.stop()
        ctx.destroy(linger=0)


def ask(zmq, ctx, frames):
    """Send our request frames to pyzmq's ZAP handler and parse its reply with our code."""
    req = ctx.socket(zmq.REQ)
    req.linger = 0
    req.rcvtimeo = req.sndtimeo = 5000
    try:
        req.connect(ZAP_ENDPOINT)
        req.send_multipart(frames)
        return parse_reply(req.recv_multipart(), frames[1])
    finally:
        req.close()


def test_pyzmq_zap_handler_understands_our_frames(pyzmq_auth):
    zmq, ctx, auth = pyzmq_auth
    auth.configure_plain(domain="global", passwords={"admin": "secret"})
    ok = ask(zmq, ctx, encode_request(plain_request()))
    assert (ok.status_code, ok.user_id, ok.request_id) == ("200", b"admin", b"7")
    denied = ask(zmq, ctx, encode_request(plain_request(password=b"wrong")))
    assert denied.status_code == "400" and denied.user_id == b""


def test_pyzmq_zap_handler_curve_key(pyzmq_auth):
    zmq, ctx, auth = pyzmq_auth
    public, _ = zmq.curve_keypair()
    auth.configure_curve(domain="*", location=zmq.auth.CURVE_ALLOW_ANY)
    request = ZapRequest(b"", b"127.0.0.1", b"", b"CURVE", (zmq.utils.z85.decode(public),), b"9")
    reply = ask(zmq, ctx, encode_request(request))
    assert reply.status_code == "200" and reply.request_id == b"9"
