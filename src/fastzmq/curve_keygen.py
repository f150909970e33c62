"""Print a new CURVE key pair, or the public key of a given secret key (Z85 text).

Run as ``python -m fastzmq.curve_keygen [--json] [--secret SECRET]``: without
options it prints both keys under the headings libzmq's ``curve_keygen`` uses;
``--json`` prints ``{"public": ..., "secret": ...}``; ``--secret`` derives the public
key from an existing secret key instead of making a new pair.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import List

from fastzmq._curve_keys import curve_keypair, curve_public


def _prog() -> str:
    spec = globals().get("__spec__")
    name = spec.name if spec is not None else "fastzmq.curve_keygen"
    return f"python3 -m {name}"


def main(argv: List[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=_prog(), description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the keys as a JSON object")
    parser.add_argument("--secret", help="a Z85 secret key whose public key to print")
    opts = parser.parse_args(argv)
    if opts.secret:
        secret = opts.secret
        public = curve_public(secret.encode("ascii")).decode("ascii")
    else:
        public_b, secret_b = curve_keypair()
        public, secret = public_b.decode("ascii"), secret_b.decode("ascii")
    if opts.json:
        json.dump({"public": public, "secret": secret}, sys.stdout, indent=1, sort_keys=True)
        sys.stdout.write("\n")
    else:
        print("== CURVE PUBLIC KEY ==", public, "", "== CURVE SECRET KEY ==", secret, sep="\n")


if __name__ == "__main__":
    main()
