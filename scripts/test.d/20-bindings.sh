#!/usr/bin/env bash
# The C library as cargo-c installs it (under sanitizers) and the Python
# package as pip installs it (maturin), over the shared test vectors. Installs
# cargo-c and maturin into /var/tmp/oap-tools first, unless already there.
set -euo pipefail
exec bash bindings/run-tests.sh
