#!/usr/bin/env bash
# The layering the design promises, checked on the dependency graph:
# kernel-core's sans-IO core builds without a signal handler or a reactor,
# the node library does not pull the Ctrl-C handler in, and a runtime
# brings no other runtime's reactor along.
set -euo pipefail
fail=0
forbid() { # CRATE ARGS... -- PATTERN
    local pattern=${*: -1}
    local args=("${@:1:$#-2}")
    local found
    found=$(cargo tree -e normal --prefix none "${args[@]}" | grep -E "^($pattern) v" | sort -u || true)
    if [ -n "$found" ]; then
        echo "FAIL: cargo tree ${args[*]} contains: $found"
        fail=1
    else
        echo "ok: cargo tree ${args[*]} has none of: $pattern"
    fi
}
forbid -p kernel-core --no-default-features -- 'async-io|ctrlc'
forbid -p oap-node -- 'ctrlc'
# S3 is opt-in: the node library pulls no HTTP client.
forbid -p oap-node -- 'object_store|reqwest|hyper'
# The driver has no reactor of its own: async-io (timers, TCP) lives in
# runtime-smol, so a tokio build compiles tokio's reactor only.
forbid -p oap-io -- 'async-io|async-net'
forbid -p runtime-tokio -- 'async-io'
# The `oap` command runs on tokio only; the benchmarks of the other
# runtimes are the separate oap-bench binary.
forbid -p cli -- 'async-std|smol'
exit $fail
