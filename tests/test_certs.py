"""fastzmq.auth.certs: CURVE certificates in czmq's ZPL layout, read and written both ways
with pyzmq's zmq.auth; and the ``python -m fastzmq.curve_keygen`` tool."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import zmq.auth as pyzmq_auth

import fastzmq
from fastzmq.auth import create_certificates, load_certificate, load_certificates
from fastzmq.utils import z85

pytest.importorskip("nacl.bindings")

# a certificate as czmq's zcert_save_secret writes it (keys from RFC 32's test vectors)
CZMQ_SECRET = """#   ****  Generated on 2024-01-01 12:00:00 by CZMQ  ****
#   ZeroMQ CURVE **Secret** Certificate
#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.

metadata
    name = "Example"
    email = "ops@example.org"
curve
    public-key = "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
    secret-key = "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
"""
CZMQ_PUBLIC = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
CZMQ_SECRET_KEY = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"


def test_create_writes_a_key_pair(tmp_path):
    public_file, secret_file = create_certificates(tmp_path, "server")
    assert public_file == str(tmp_path / "server.key")
    assert secret_file == str(tmp_path / "server.key_secret")
    public, none = load_certificate(public_file)
    public2, secret = load_certificate(secret_file)
    assert none is None and public == public2
    assert len(public) == len(secret) == 40
    assert fastzmq.curve_public(secret) == public  # the pair belongs together
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600
    assert "secret-key" not in open(public_file).read()
    other_public, _ = load_certificate(create_certificates(tmp_path, "client")[0])
    assert other_public != public  # fresh keys every time


def test_secret_file_is_private_even_if_it_existed(tmp_path):
    target = tmp_path / "x.key_secret"
    target.write_text("old")
    os.chmod(target, 0o644)
    create_certificates(tmp_path, "x")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600


def test_pyzmq_reads_ours(tmp_path):
    public_file, secret_file = create_certificates(tmp_path, "ours", {"name": "Alice"})
    assert pyzmq_auth.load_certificate(public_file) == load_certificate(public_file)
    assert pyzmq_auth.load_certificate(secret_file) == load_certificate(secret_file)
    public, _ = load_certificate(public_file)
    assert pyzmq_auth.load_certificates(str(tmp_path)) == {public: True}


def test_we_read_pyzmqs(tmp_path):
    public_file, secret_file = pyzmq_auth.create_certificates(
        str(tmp_path), "theirs", {"name": "Bob", b"role": b"worker"}
    )
    assert load_certificate(public_file) == pyzmq_auth.load_certificate(public_file)
    assert load_certificate(secret_file) == pyzmq_auth.load_certificate(secret_file)
    public, secret = load_certificate(secret_file)
    assert fastzmq.curve_public(secret) == public
    assert load_certificates(tmp_path) == pyzmq_auth.load_certificates(str(tmp_path))


def test_we_read_czmqs(tmp_path):
    path = tmp_path / "czmq.key_secret"
    path.write_text(CZMQ_SECRET)
    assert load_certificate(path) == (CZMQ_PUBLIC, CZMQ_SECRET_KEY)
    assert fastzmq.curve_public(CZMQ_SECRET_KEY) == CZMQ_PUBLIC
    assert pyzmq_auth.load_certificate(str(path)) == (CZMQ_PUBLIC, CZMQ_SECRET_KEY)


def test_metadata_is_written_as_zpl(tmp_path):
    meta = {"name": "Alice Smith", b"quote": 'say "hi"', "org": b"ACME"}
    _, secret_file = create_certificates(tmp_path, "meta", meta)
    text = open(secret_file).read()
    assert '    name = "Alice Smith"\n' in text
    assert "    quote = 'say \"hi\"'\n" in text
    assert '    org = "ACME"\n' in text
    assert text.index("metadata\n") < text.index("    name") < text.index("curve\n")
    for bad in ({"two words": "x"}, {"name": "line\nbreak"}, {"name": "\"'"}):
        with pytest.raises(ValueError):
            create_certificates(tmp_path, "bad", bad)


def test_zpl_details(tmp_path):
    """Quotes of either kind, bare values, trailing comments, and a public-key outside
    the curve section that is not the key."""
    path = tmp_path / "hand.key"
    path.write_text(
        "# hand written\n"
        "metadata\n"
        '    public-key = "not-a-key"\n'
        "curve\n"
        f"    public-key = {CZMQ_PUBLIC.decode()}   # bare, with a comment\n"
        f"    secret-key = '{CZMQ_SECRET_KEY.decode()}'\n"
    )
    assert load_certificate(path) == (CZMQ_PUBLIC, CZMQ_SECRET_KEY)


@pytest.mark.parametrize(
    "body, error",
    [
        ("metadata\ncurve\n", "No public key"),
        ('metadata\n    public-key = "' + CZMQ_PUBLIC.decode() + '"\n', "No public key"),
        ('curve\n    public-key = "tooshort"\n', "not 40 characters of Z85"),
        ('curve\n    public-key = "' + " " * 40 + '"\n', "not 40 characters of Z85"),
        ('curve\n    public-key = "unterminated\n', "not a ZPL line"),
    ],
)
def test_bad_certificates_are_value_errors(tmp_path, body, error):
    path = tmp_path / "bad.key"
    path.write_text(body)
    with pytest.raises(ValueError, match=error):
        load_certificate(path)


def test_missing_file_and_directory_are_os_errors(tmp_path):
    with pytest.raises(OSError, match="Invalid certificate file"):
        load_certificate(tmp_path / "nope.key")
    with pytest.raises(OSError, match="Invalid certificate directory"):
        load_certificates(tmp_path / "nope")


def test_load_certificates_reads_only_public_key_files(tmp_path):
    a_public, _ = create_certificates(tmp_path, "a")
    b_public, _ = create_certificates(tmp_path, "b")
    (tmp_path / "notes.txt").write_text("not a certificate")
    expected = {load_certificate(a_public)[0]: True, load_certificate(b_public)[0]: True}
    assert load_certificates(tmp_path) == expected
    assert load_certificates(str(tmp_path)) == expected


def test_curve_public_and_keypair_agree_with_pyzmq():
    import zmq

    public, secret = fastzmq.curve_keypair()
    assert zmq.curve_public(secret) == public
    assert len(z85.decode(public)) == len(z85.decode(secret)) == 32
    assert fastzmq.curve_public(CZMQ_SECRET_KEY.decode()) == CZMQ_PUBLIC


def _keygen(*args: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "fastzmq.curve_keygen", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout


def test_curve_keygen_tool():
    lines = _keygen().splitlines()
    public = lines[lines.index("== CURVE PUBLIC KEY ==") + 1].encode()
    secret = lines[lines.index("== CURVE SECRET KEY ==") + 1].encode()
    assert fastzmq.curve_public(secret) == public
    keys = json.loads(_keygen("--json"))
    assert fastzmq.curve_public(keys["secret"].encode()) == keys["public"].encode()
    derived = json.loads(_keygen("--secret", CZMQ_SECRET_KEY.decode(), "--json"))
    assert derived == {"public": CZMQ_PUBLIC.decode(), "secret": CZMQ_SECRET_KEY.decode()}
    assert "python3 -m fastzmq.curve_keygen" in _keygen("--help")
