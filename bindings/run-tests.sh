#!/usr/bin/env bash
# Everything CI runs for the bindings, on a machine with only Rust, a C
# compiler and python3 + pip:
#   1. build the oap-c crate (liboap.so / liboap.a) and run its Rust tests,
#      which include the check that include/oap.h is what cbindgen generates;
#   2. compile tests/vectors.c with the system cc under AddressSanitizer +
#      LeakSanitizer + UBSan and run it over docs/specs/vectors (and under
#      valgrind too when valgrind is installed);
#   3. a fresh virtualenv, a plain `pip install ./bindings/python` (maturin,
#      fetched by pip, compiles the module), mypy's stubtest and
#      `mypy --strict` over the installed package, then pytest over the same
#      vectors against it. The last line is pytest's.
#
# Honours CARGO_TARGET_DIR (default: target/ at the repository root); all
# scratch output goes under $CARGO_TARGET_DIR/bindings, nothing is written
# into the source tree. pip's downloads are cached in $OAP_TOOLS/pip-cache
# (default /var/tmp/oap-tools/pip-cache).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
LIBDIR="$CARGO_TARGET_DIR/debug"
SCRATCH="$CARGO_TARGET_DIR/bindings"
PY="${PYTHON:-python3}"
export OAP_TOOLS="${OAP_TOOLS:-/var/tmp/oap-tools}"
export PYTHONDONTWRITEBYTECODE=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_CACHE_DIR="$OAP_TOOLS/pip-cache"
# Test tools for the virtualenv, pinned so that a new release cannot change
# what CI checks without a commit here.
PYTEST="pytest==9.2.0"
MYPY="mypy==2.4.1"
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

VENV="$SCRATCH/venv"
echo "==> fresh virtualenv $VENV; pip install ./bindings/python"
"$PY" -m venv --clear "$VENV"
"$VENV/bin/python" -m pip install --quiet ./bindings/python
"$VENV/bin/python" -m pip install --quiet "$PYTEST" "$MYPY"

# From the repository root, where bindings/python/oap is not importable as
# `oap`: the installed copy must be the one found.
LOADED="$("$VENV/bin/python" -c 'import oap; print(oap.LIBRARY_PATH)')"
case "$LOADED" in
    "$VENV/"*) echo "==> oap loads $LOADED" ;;
    *) echo "the virtualenv's oap loaded the wrong module: $LOADED" >&2; exit 1 ;;
esac

echo "==> mypy stubtest oap, mypy --strict -p oap (the stubs match the module)"
# From the scratch folder, where stubtest leaves its .mypy_cache.
(cd "$SCRATCH" && "$VENV/bin/python" -m mypy.stubtest oap &&
    "$VENV/bin/python" -m mypy --strict --no-incremental -p oap)

echo "==> pytest bindings/python/tests"
export OAP_VECTORS_DIR="$ROOT/docs/specs/vectors"
exec "$VENV/bin/python" -m pytest -p no:cacheprovider bindings/python/tests
