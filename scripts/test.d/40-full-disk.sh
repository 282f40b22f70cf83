#!/usr/bin/env bash
# A real full disk under `oap serve --store dir:`: a tmpfs of 4 MiB takes
# the store, an 8 MiB put must fail with store_full and leave nothing
# visible, and the node must go on serving. Needs root to mount (CI runs
# as root); elsewhere the step says it was skipped and why.
set -euo pipefail

work=$(mktemp -d)
mnt="$work/store"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=4m tmpfs "$mnt" 2>/dev/null; then
    echo "skipped: mounting a tmpfs needs root (CI runs this step as root)"
    rm -rf "$work"
    exit 0
fi
source scripts/lib/serve.sh
# Keeps the step's own exit status: the server's, killed here, is not it.
cleanup() {
    local rc=$?
    stop_oap_serve
    umount "$mnt" 2>/dev/null || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

start_oap_serve --store "dir:$mnt"
oap=$OAP_BIN
addr=$OAP_ADDR

head -c $((8 * 1024 * 1024)) /dev/urandom >"$work/big.bin"
if "$oap" put "$work/big.bin" --server "$addr" >"$work/put.out" 2>"$work/put.err"; then
    echo "FAIL: an 8 MiB put into a 4 MiB store succeeded"; exit 1
fi
grep -q store_full "$work/put.err" || { echo "FAIL: no store_full in:"; cat "$work/put.err"; exit 1; }
# The usage journal (.usage, per-tenant stored bytes) is the store's own.
left=$(find "$mnt" -mindepth 1 -maxdepth 1 ! -name .usage | wc -l)
[ "$left" -eq 0 ] || { echo "FAIL: $left files left after the refused put (temporary ones included)"; ls -la "$mnt"; exit 1; }

echo "a small object after the full disk" >"$work/small.txt"
id=$("$oap" put "$work/small.txt" --server "$addr")
"$oap" get "$id" --server "$addr" >"$work/small.back"
cmp "$work/small.txt" "$work/small.back"
echo "full disk: put refused with store_full, nothing visible, node still serving"
