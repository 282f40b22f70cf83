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
server=""
# Keeps the step's own exit status: the server's, killed here, is not it.
cleanup() {
    local rc=$?
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    umount "$mnt" 2>/dev/null || true
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

cargo build --quiet -p cli
oap="$CARGO_TARGET_DIR/debug/oap"
# The server's stdout comes through fd 3; its address line is awaited
# with a deadline (read -t), not a sleep.
exec 3< <(exec "$oap" serve --store "dir:$mnt" --listen 127.0.0.1:0 \
    --admin 127.0.0.1:0 2>"$work/serve.err")
server=$!
addr=""
while [ -z "$addr" ] && IFS= read -r -t 20 -u 3 line; do
    addr=${line#oap listening on oap://}
    [ "$addr" = "$line" ] && addr=""
done
[ -n "$addr" ] || { echo "oap serve did not start"; cat "$work/serve.err"; exit 1; }

head -c $((8 * 1024 * 1024)) /dev/urandom >"$work/big.bin"
if "$oap" put "$work/big.bin" --server "$addr" >"$work/put.out" 2>"$work/put.err"; then
    echo "FAIL: an 8 MiB put into a 4 MiB store succeeded"; exit 1
fi
grep -q store_full "$work/put.err" || { echo "FAIL: no store_full in:"; cat "$work/put.err"; exit 1; }
left=$(find "$mnt" -mindepth 1 -maxdepth 1 -not -name '.partial-*' | wc -l)
[ "$left" -eq 0 ] || { echo "FAIL: $left objects visible after the refused put"; ls -la "$mnt"; exit 1; }

echo "a small object after the full disk" >"$work/small.txt"
id=$("$oap" put "$work/small.txt" --server "$addr")
"$oap" get "$id" --server "$addr" >"$work/small.back"
cmp "$work/small.txt" "$work/small.back"
echo "full disk: put refused with store_full, nothing visible, node still serving"
