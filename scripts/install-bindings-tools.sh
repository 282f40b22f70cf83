#!/usr/bin/env bash
# Installs the tools the bindings are packaged with, pinned, into one folder
# outside the clone ($OAP_TOOLS, default /var/tmp/oap-tools) so that every
# later run on the machine, CI's included, reuses them:
#
#   $OAP_TOOLS/bin/cargo-c{build,install,test}  cargo-c, from crates.io
#                                                (`cargo install --locked`)
#   $OAP_TOOLS/maturin/bin/maturin               maturin, from PyPI, in a
#                                                virtualenv of its own
#
# A tool already there at the pinned version is not installed again, and
# that check reads no registry, so a warm run costs well under a second.
# Cold, cargo-c compiles for several minutes (it embeds cargo); see
# bindings/README.md for the times measured.
#
# Also makes sure of what cargo-c's build and the C test need from the
# system, pkg-config and OpenSSL's headers, installing them from Debian's
# packages when missing (CI runs as root; both come with the usual image).
#
# Usage: scripts/install-bindings-tools.sh   (prints nothing else when warm)
set -euo pipefail

# cargo-c 0.10.24 is the newest whose rust-version (1.95) this toolchain
# meets; 0.10.26 needs 1.97.
CARGO_C_VERSION="0.10.24+cargo-0.98.0"
MATURIN_VERSION="1.16.0"

OAP_TOOLS="${OAP_TOOLS:-/var/tmp/oap-tools}"
PY="${PYTHON:-python3}"
mkdir -p "$OAP_TOOLS"

apt_install() {
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "missing: $* (install it with your package manager)" >&2
        exit 1
    fi
    echo "==> apt-get install $*"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v pkg-config >/dev/null 2>&1 || apt_install pkg-config
pkg-config --exists openssl || apt_install libssl-dev

if [ "$("$OAP_TOOLS/bin/cargo-cinstall" --version 2>/dev/null || true)" != "cargo-c $CARGO_C_VERSION" ]; then
    echo "==> cargo install cargo-c $CARGO_C_VERSION --root $OAP_TOOLS (compiles cargo itself: minutes)"
    start=$SECONDS
    # The project's CARGO_TARGET_DIR is left alone: cargo install builds in
    # a temporary folder of its own and removes it.
    env -u CARGO_TARGET_DIR cargo install cargo-c --locked --quiet \
        --version "$CARGO_C_VERSION" --root "$OAP_TOOLS"
    echo "==> cargo-c installed in $((SECONDS - start)) s"
fi

if [ "$("$OAP_TOOLS/maturin/bin/maturin" --version 2>/dev/null || true)" != "maturin $MATURIN_VERSION" ]; then
    echo "==> maturin $MATURIN_VERSION into $OAP_TOOLS/maturin"
    "$PY" -m venv --clear "$OAP_TOOLS/maturin"
    "$OAP_TOOLS/maturin/bin/python" -m pip install --quiet --disable-pip-version-check \
        --cache-dir "$OAP_TOOLS/pip-cache" "maturin==$MATURIN_VERSION"
fi
