#!/usr/bin/env bash
# The ledger must build with and without its accounting adapter.
set -euo pipefail
cargo build -p ledger --quiet
cargo build -p ledger --features accounting-adapter --quiet
echo "ledger builds with and without accounting-adapter"
