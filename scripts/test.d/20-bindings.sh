#!/usr/bin/env bash
# C (under sanitizers) and Python bindings over the shared test vectors.
set -euo pipefail
exec bash bindings/run-tests.sh
