#!/usr/bin/env bash
# Compile-check the kqueue backend of src/fastzmq/_poller.h on Linux (issue 20 item 6).
#
# This machine has no kqueue, so the backend is compiled (-fsyntax-only, -Wall -Wextra
# -Werror) against tools/kqueue_decls/sys/event.h: the declarations of the kqueue(2) man
# page and nothing else. It proves the code is well-formed C against that API; it proves
# nothing about its behaviour, which only a run of the suite on macOS/BSD can.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(mktemp --suffix=.c)
trap 'rm -f "$src"' EXIT
cat > "$src" <<'C'
#include "_poller.h"
int main(void) {
    fz_poller p;
    fz_event ev[8];
    int r = -1, w = -1;
    if (fz_wake_open(&r, &w, 1) < 0 || fz_poller_open(&p, FZ_BACKEND_NATIVE) < 0) return 1;
    fz_poller_add(&p, r, 1, FZ_IN | FZ_ET);
    fz_poller_want(&p, r, FZ_IN);
    fz_wake_write(r, w);
    fz_poller_wait(&p, ev, 8, 0);
    fz_wake_read_all(r, w);
    fz_poller_del(&p, r);
    fz_poller_close(&p);
    return p.backend == FZ_BACKEND_KQUEUE ? 0 : 1;
}
C
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -fsyntax-only -DFZ_SYNTAX_CHECK_KQUEUE \
    -Itools/kqueue_decls -Isrc/fastzmq "$src"
echo "kqueue backend: compiles against the kqueue(2) declarations (not run)"
