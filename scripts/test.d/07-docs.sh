#!/usr/bin/env bash
# The API docs build without a warning (broken or private intra-doc links,
# bad code blocks). The doctests themselves run in the workspace's final
# `cargo test --workspace --all-features`, so they are not run again here.
set -euo pipefail
RUSTDOCFLAGS="${RUSTDOCFLAGS:-} -D warnings" cargo doc --workspace --no-deps --all-features
