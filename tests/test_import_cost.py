"""`import fastzmq` stays light (issue 20, item 7; docs/release.md): measured against
pyzmq by tools/import_cost.py, guarded here by what must not be imported."""

from __future__ import annotations

import subprocess
import sys

# Each costs several ms and a few hundred KiB at import; pyzmq loads none of them.
HEAVY = ("dataclasses", "inspect", "asyncio", "ast", "fastzmq.zmtp.zap", "fastzmq._transport")


def test_import_fastzmq_loads_nothing_heavy():
    code = (
        "import sys, fastzmq; fastzmq.Context().term(); "
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == []
