#!/usr/bin/env bash
# The blueprint's sanity checks (shared/seed/microkernel-blueprint.md §16),
# with this repository's paths for its `crates/` and `crates/ron-kernel`,
# and grep for rg (which a fresh machine may lack).
set -euo pipefail
fail=0
sources=(docs ./*.md bindings kernel-core oap-core oap-io oap-node oap-sim oap-suite
         runtime-tokio runtime-async-std runtime-smol ledger fuzz model-check cli bench specs)

# 1. No other digest algorithm's remnants in docs, READMEs and sources:
#    BLAKE3 is the one hash (tests name "another algorithm" k12:).
if hits=$(grep -rnEi "sha-?256|sha256:" "${sources[@]}"); then
    echo "FAIL: remnants of another digest algorithm:"; echo "$hits"; fail=1
else
    echo "ok: no other digest algorithm in docs and sources"
fi

# 2. The frozen kernel event keeps its reason.
if grep -rnqE "ServiceCrashed\s*\{\s*service\s*,\s*reason\s*\}" kernel-core docs; then
    echo "ok: ServiceCrashed { service, reason } in kernel-core and docs"
else
    echo "FAIL: ServiceCrashed lost its reason"; fail=1
fi

# 3. The streaming chunk (64 KiB) is never mistaken for max_frame.
if hits=$(grep -rnE "max_frame\s*=\s*64\s*Ki?B" "${sources[@]}"); then
    echo "FAIL: max_frame set to the streaming chunk:"; echo "$hits"; fail=1
else
    echo "ok: no max_frame = 64 KiB"
fi
exit $fail
