#!/usr/bin/env bash
# Gateways over a real S3-compatible store: starts a 3-node Garage cluster
# on loopback (replication factor 3; installed once into the tool cache by
# scripts/garage.sh), then runs cli/tests/s3.rs against it, one test at a
# time (one stops a Garage node and starts it again), and stops the cluster.
set -euo pipefail

export OAP_GARAGE_DIR
OAP_GARAGE_DIR=$(mktemp -d /tmp/oap-garage.XXXXXX)
cleanup() {
    local rc=$?
    scripts/garage.sh stop >/dev/null 2>&1 || true
    exit "$rc"
}
trap cleanup EXIT

eval "$(scripts/garage.sh start)"
cargo test -p cli --test s3 -- --ignored --test-threads=1
