#!/usr/bin/env bash
# Runs the whole test suite: every crate's unit, integration, property and
# doc tests, the test vectors, the C and Python bindings, the demos.
# This is the README's test command and what .ci/run calls after fmt/clippy.
set -euo pipefail
cd "$(dirname "$0")/.."

# Builds land outside the clone by default so repeated runs reuse them.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/oap-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

# Benchmarks are type-checked by `cargo clippy --all-targets` in .ci/run;
# building them in release here too would double the build for no check.

for extra in scripts/test.d/*.sh; do
    [ -e "$extra" ] || continue
    step "$extra"
    bash "$extra"
done

step "cargo test (workspace, all features)"
cargo test --workspace --all-features
