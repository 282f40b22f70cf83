#!/usr/bin/env bash
# The core with no async runtime: oap-core's `blocking` example (a blocking
# std::net::TcpStream, one thread) puts and gets an object against a real
# `oap serve`. See docs/embedding.md.
set -euo pipefail
work=$(mktemp -d)
source scripts/lib/serve.sh
cleanup() {
    local rc=$?
    stop_oap_serve
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT
start_oap_serve
cargo run --quiet -p oap-core --example blocking -- "$OAP_ADDR" | grep -v '^  event'
