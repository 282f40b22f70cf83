#!/usr/bin/env bash
# Everything CI runs for the bindings, on a machine with only Rust, a C
# compiler and python3 + pip; the packaging tools come from crates.io and
# PyPI:
#   0. scripts/install-bindings-tools.sh: cargo-c and maturin, pinned, kept
#      in $OAP_TOOLS (default /var/tmp/oap-tools) and skipped when there;
#   1. cargo test -p oap-c: the ABI driven from Rust, and the check that
#      include/oap.h is what cbindgen generates;
#   2. cargo cinstall into a scratch prefix (liboap.so, liboap.a, oap.h,
#      oap.pc), then tests/vectors.c built against that install with
#      `pkg-config --cflags --libs oap` and run over docs/specs/vectors
#      under ASan + LSan + UBSan, against the static library too, and under
#      valgrind when it is installed;
#   3. maturin build --release: the wheel, checked to be one abi3 wheel for
#      CPython >= 3.9 carrying the stubs and py.typed;
#   4. a fresh virtualenv, a plain `pip install ./bindings/python` (maturin,
#      fetched by pip, compiles the module), mypy's stubtest and
#      `mypy --strict` over the installed package, then pytest over the same
#      vectors against it. The last line is pytest's.
#
# Honours CARGO_TARGET_DIR (default: target/ at the repository root); all
# scratch output goes under $CARGO_TARGET_DIR/bindings, nothing is written
# into the source tree. pip's downloads are cached in $OAP_TOOLS/pip-cache.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
export OAP_TOOLS="${OAP_TOOLS:-/var/tmp/oap-tools}"
SCRATCH="$CARGO_TARGET_DIR/bindings"
PY="${PYTHON:-python3}"
CC="${CC:-cc}"
export PYTHONDONTWRITEBYTECODE=1 PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_CACHE_DIR="$OAP_TOOLS/pip-cache"
# Test tools for the virtualenv, pinned so that a new release cannot change
# what CI checks without a commit here.
PYTEST="pytest==9.2.0"
MYPY="mypy==2.4.1"
mkdir -p "$SCRATCH"

echo "==> scripts/install-bindings-tools.sh"
bash scripts/install-bindings-tools.sh
export PATH="$OAP_TOOLS/bin:$PATH"

echo "==> cargo test -p oap-c (ABI tests; include/oap.h must be fresh)"
cargo test -p oap-c

# ---- C: the library as cargo-c installs it -----------------------------------
# cargo-c builds in target folders of its own. It builds as for an explicit
# --target, which puts proc-macros and build scripts in the shared
# release/ folder, where maturin's build of the same crates replaces them
# (and the other way round): sharing made every run rebuild both from
# scratch. And it rebuilds everything when the library types differ from
# its last build in a folder, hence one for the static-only install too.
PREFIX="$SCRATCH/c-prefix"
echo "==> cargo cinstall -p oap-c --prefix $PREFIX"
rm -rf "$PREFIX"
cargo cinstall -p oap-c --release --target-dir "$SCRATCH/c-target" \
    --prefix "$PREFIX" --libdir "$PREFIX/lib"
for f in lib/liboap.so lib/liboap.a include/oap/oap.h lib/pkgconfig/oap.pc; do
    test -e "$PREFIX/$f" || { echo "cargo cinstall did not install $f" >&2; exit 1; }
done
cmp bindings/c/include/oap.h "$PREFIX/include/oap/oap.h"

export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
read -r -a OAP_CFLAGS <<<"$(pkg-config --cflags oap)"
read -r -a OAP_LIBS <<<"$(pkg-config --libs oap)"
# The prefix is not on the loader's path: the test finds liboap.so by rpath.
RPATH="-Wl,-rpath,$(pkg-config --variable=libdir oap)"
C_FLAGS=(-std=c11 -Wall -Wextra -Werror -g -O1)
SAN_FLAGS=(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "==> C vector test, shared liboap, under ASan/LSan/UBSan ($CC \$(pkg-config --cflags --libs oap))"
"$CC" "${C_FLAGS[@]}" "${SAN_FLAGS[@]}" "${OAP_CFLAGS[@]}" bindings/c/tests/vectors.c \
    "${OAP_LIBS[@]}" "$RPATH" -o "$SCRATCH/vectors-asan"
"$SCRATCH/vectors-asan" docs/specs/vectors

# The static library alone, linked as pkg-config says for static builds
# (its Libs.private: what Rust's standard library needs from libc). A
# prefix with no liboap.so in it, so `-loap` can only mean liboap.a.
STATIC_PREFIX="$SCRATCH/c-prefix-static"
echo "==> C vector test, static liboap.a, under ASan/LSan/UBSan"
rm -rf "$STATIC_PREFIX"
cargo cinstall -p oap-c --release --library-type staticlib --target-dir "$SCRATCH/c-static-target" \
    --prefix "$STATIC_PREFIX" --libdir "$STATIC_PREFIX/lib"
read -r -a STATIC_LIBS <<<"$(PKG_CONFIG_PATH="$STATIC_PREFIX/lib/pkgconfig" pkg-config --static --libs oap)"
"$CC" "${C_FLAGS[@]}" "${SAN_FLAGS[@]}" "${OAP_CFLAGS[@]}" bindings/c/tests/vectors.c \
    "${STATIC_LIBS[@]}" -o "$SCRATCH/vectors-static"
"$SCRATCH/vectors-static" docs/specs/vectors

if command -v valgrind >/dev/null 2>&1; then
    echo "==> C vector test under valgrind (memcheck, leaks are errors)"
    "$CC" "${C_FLAGS[@]}" "${OAP_CFLAGS[@]}" bindings/c/tests/vectors.c \
        "${OAP_LIBS[@]}" "$RPATH" -o "$SCRATCH/vectors-plain"
    valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        "$SCRATCH/vectors-plain" docs/specs/vectors
else
    echo "==> valgrind not installed: skipped (the ASan/LSan runs above cover leaks and invalid access)"
fi

# ---- Python: the wheel, and the package as pip installs it --------------------
echo "==> maturin build --release (the wheel)"
rm -rf "$SCRATCH/wheels"
"$OAP_TOOLS/maturin/bin/maturin" build --quiet --release -m bindings/python/Cargo.toml \
    --out "$SCRATCH/wheels"
WHEELS=("$SCRATCH"/wheels/*.whl)
case "${WHEELS[*]}" in
    */oap-*-cp39-abi3-*.whl) echo "    ${WHEELS[*]##*/}" ;;
    *) echo "expected one cp39-abi3 wheel, got: ${WHEELS[*]##*/}" >&2; exit 1 ;;
esac
"$PY" - "${WHEELS[0]}" <<'EOF'
import sys, zipfile
names = set(zipfile.ZipFile(sys.argv[1]).namelist())
want = {"oap/__init__.py", "oap/_errors.py", "oap/_oap.pyi", "oap/py.typed", "oap/_oap.abi3.so"}
missing = want - names
sys.exit(f"the wheel lacks {sorted(missing)}" if missing else 0)
EOF

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
