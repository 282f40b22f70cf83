#!/usr/bin/env bash
# Every runtime's demos must run to completion.
set -euo pipefail
for rt in tokio async-std smol; do
    for ex in demo tcp_demo; do
        echo "--- runtime-$rt --example $ex"
        cargo run --quiet -p "runtime-$rt" --example "$ex"
    done
done
