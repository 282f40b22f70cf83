#!/usr/bin/env bash
# Everything CI needs for the bindings, on a machine with only Rust, a C
# compiler and python3 + pip:
#   1. build the oap-c crate (liboap.so / liboap.a) and run its Rust tests,
#      which include the check that include/oap.h is what cbindgen generates;
#   2. compile tests/vectors.c with the system cc under AddressSanitizer +
#      LeakSanitizer + UBSan and run it over docs/specs/vectors (and under
#      valgrind too when valgrind is installed);
#   3. pip-install bindings/python into a scratch dir and run pytest over the
#      same vectors against that installed copy. The last line is pytest's.
#
# Honours CARGO_TARGET_DIR (default: target/ at the repository root); all
# scratch output goes under $CARGO_TARGET_DIR/bindings, nothing is written
# into the source tree.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
LIBDIR="$CARGO_TARGET_DIR/debug"
SCRATCH="$CARGO_TARGET_DIR/bindings"
PY="${PYTHON:-python3}"
export PYTHONDONTWRITEBYTECODE=1 PIP_ROOT_USER_ACTION=ignore
mkdir -p "$SCRATCH"

case "$(uname -s)" in
  Darwin) LIBFILE=liboap.dylib ;;
  *) LIBFILE=liboap.so ;;
esac

echo "==> cargo build -p oap-c"
cargo build -p oap-c
echo "==> cargo test -p oap-c (ABI tests; include/oap.h must be fresh)"
cargo test -p oap-c

echo "==> C vector test under ASan/LSan/UBSan (${CC:-cc})"
"${CC:-cc}" -std=c11 -Wall -Wextra -Werror -g -O1 \
  -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
  -I bindings/c/include bindings/c/tests/vectors.c \
  -L "$LIBDIR" -loap -Wl,-rpath,"$LIBDIR" -o "$SCRATCH/vectors-asan"
ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$SCRATCH/vectors-asan" docs/specs/vectors

if command -v valgrind >/dev/null 2>&1; then
  echo "==> C vector test under valgrind (memcheck, leaks are errors)"
  "${CC:-cc}" -std=c11 -Wall -Wextra -Werror -g -O1 \
    -I bindings/c/include bindings/c/tests/vectors.c \
    -L "$LIBDIR" -loap -Wl,-rpath,"$LIBDIR" -o "$SCRATCH/vectors-plain"
  valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
    "$SCRATCH/vectors-plain" docs/specs/vectors
else
  echo "==> valgrind not installed: skipped (the ASan/LSan run above covers leaks and invalid access)"
fi

echo "==> pip install ./bindings/python (into $SCRATCH/site)"
rm -rf "$SCRATCH/site"
PIP_ARGS=(--quiet --disable-pip-version-check --no-deps --target "$SCRATCH/site")
# Build with the local setuptools when it can make wheels (no download);
# otherwise pip fetches setuptools into an isolated build env.
if "$PY" -c 'import importlib.util as u, sys
sys.exit(0 if u.find_spec("setuptools") and (u.find_spec("wheel") or u.find_spec("setuptools.command.bdist_wheel")) else 1)' 2>/dev/null; then
  PIP_ARGS+=(--no-build-isolation)
fi
# From a copy, so setuptools' build/ and *.egg-info stay out of the source tree.
rm -rf "$SCRATCH/python-src"
cp -R bindings/python "$SCRATCH/python-src"
OAP_LIB="$LIBDIR/$LIBFILE" "$PY" -m pip install "${PIP_ARGS[@]}" "$SCRATCH/python-src"
test -f "$SCRATCH/site/oap/$LIBFILE" || { echo "pip install did not bundle $LIBFILE" >&2; exit 1; }

PYPATH="$SCRATCH/site"
if ! "$PY" -c "import pytest" 2>/dev/null && [ -d "$SCRATCH/pytest/pytest" ]; then
  PYPATH="$PYPATH:$SCRATCH/pytest"   # installed by an earlier run
elif ! "$PY" -c "import pytest" 2>/dev/null; then
  echo "==> pytest missing: pip install pytest (into $SCRATCH/pytest)"
  "$PY" -m pip install --quiet --disable-pip-version-check --target "$SCRATCH/pytest" pytest
  PYPATH="$PYPATH:$SCRATCH/pytest"
fi

# Import the installed copy, and make it find its bundled library.
unset OAP_LIB
export PYTHONPATH="$PYPATH${PYTHONPATH:+:$PYTHONPATH}"
LOADED="$("$PY" -c 'import oap; print(oap.LIBRARY_PATH)')"
case "$LOADED" in
  "$SCRATCH/site/"*) echo "==> oap loads $LOADED" ;;
  *) echo "installed oap loaded the wrong library: $LOADED" >&2; exit 1 ;;
esac

echo "==> pytest bindings/python/tests"
export OAP_VECTORS_DIR="$ROOT/docs/specs/vectors"
exec "$PY" -m pytest -p no:cacheprovider bindings/python/tests
