#!/usr/bin/env bash
# The README's main job and every runtime's demos must run to completion.
set -euo pipefail
for rt in tokio async-std smol; do
    for ex in demo tcp_demo; do
        echo "--- runtime-$rt --example $ex"
        cargo run --quiet -p "runtime-$rt" --example "$ex"
    done
done
echo "--- oap demo (the README's main job)"
cargo run --quiet -p cli -- demo
