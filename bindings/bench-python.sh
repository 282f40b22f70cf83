#!/usr/bin/env bash
# The Python codec benchmark: the native module next to the ctypes package it
# replaced, both measured in this run on this machine.
#
#   native  `pip install ./bindings/python` into a scratch virtualenv (maturin,
#           release build);
#   ctypes  bindings/python/oap as it was before the native module, taken
#           from git history into a temporary folder (it is not shipped any
#           more), loading a liboap.so built now from bindings/c in release:
#           the same Rust codec underneath, only the binding differs.
#
# bindings/python/bench/codec.py runs three times for each, alternately, and
# each workload keeps its best time; the result is a Markdown table.
#
# Usage: bindings/bench-python.sh   (honours CARGO_TARGET_DIR and PYTHON;
# needs a git checkout whose history has the ctypes package)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
case "$CARGO_TARGET_DIR" in /*) ;; *) CARGO_TARGET_DIR="$ROOT/$CARGO_TARGET_DIR" ;; esac
SCRATCH="$CARGO_TARGET_DIR/bindings-bench"
PY="${PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PYTHONDONTWRITEBYTECODE=1
mkdir -p "$SCRATCH"

# The last commit that has the ctypes package: the one that removed
# oap/_lib.py is the newest to touch it, and its parent still has it.
OLD="$(git rev-list -1 HEAD -- bindings/python/oap/_lib.py)"
[ -n "$OLD" ] || { echo "no ctypes package (bindings/python/oap/_lib.py) in this history" >&2; exit 1; }
git cat-file -e "$OLD:bindings/python/oap/_lib.py" 2>/dev/null || OLD="$OLD^"
OLD_DIR="$(mktemp -d)"
trap 'rm -rf "$OLD_DIR"' EXIT
git archive "$OLD" bindings/python/oap | tar -x -C "$OLD_DIR"
echo "==> ctypes package from $(git rev-parse --short "$OLD"), liboap.so from cargo rustc -p oap-c --release" >&2
cargo rustc --quiet -p oap-c --release --lib --crate-type cdylib
LIBOAP="$CARGO_TARGET_DIR/release/liboap.so"

echo "==> native module: pip install ./bindings/python into $SCRATCH/venv" >&2
"$PY" -m venv --clear "$SCRATCH/venv"
"$SCRATCH/venv/bin/python" -m pip install --quiet ./bindings/python

rm -f "$SCRATCH"/native.jsonl "$SCRATCH"/ctypes.jsonl
for round in 1 2 3; do
    echo "==> round $round of 3" >&2
    "$SCRATCH/venv/bin/python" bindings/python/bench/codec.py >>"$SCRATCH/native.jsonl"
    PYTHONPATH="$OLD_DIR/bindings/python" OAP_LIB="$LIBOAP" \
        "$SCRATCH/venv/bin/python" bindings/python/bench/codec.py >>"$SCRATCH/ctypes.jsonl"
done

"$SCRATCH/venv/bin/python" - "$SCRATCH" "$OLD_DIR" <<'EOF'
import json, os, platform, sys

scratch, old_dir = sys.argv[1], sys.argv[2]
runs = {}
for impl in ("ctypes", "native"):
    with open(os.path.join(scratch, impl + ".jsonl")) as f:
        rows = [json.loads(line) for line in f]
    # Proof that each run imported the package it is named after.
    in_old = [r["module"].startswith(old_dir) for r in rows]
    assert all(in_old) if impl == "ctypes" else not any(in_old), (impl, rows)
    runs[impl] = {k: min(r[k] for r in rows) for k in ("ack", "data", "object_id", "data_copy")}
    runs[impl]["data_bytes"] = rows[0]["data_bytes"]

def us(s):
    return f"{s * 1e6:,.1f} µs"

def gbs(n, s):
    return f"{n / s / 1e9:.2f} GB/s"

rows = [
    ("decode 1,024 ACK frames (one `feed`)",
     lambda r: f"{us(r['ack'])} ({r['ack'] / 1024 * 1e9:.0f} ns/frame)", "ack"),
    ("decode 64 DATA frames of 64 KiB (one `feed`, 4 MiB)",
     lambda r: f"{us(r['data'])} ({gbs(r['data_bytes'], r['data'])})", "data"),
    ("`object_id` of 1 MiB",
     lambda r: f"{us(r['object_id'])} ({gbs(1 << 20, r['object_id'])})", "object_id"),
]
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"Python {platform.python_version()}, {cpu}, {os.cpu_count()} cores, "
      f"load average {os.getloadavg()[0]:.2f}; best of 3 runs x 7 repeats\n")
print("| workload | ctypes package | native module | native vs ctypes |")
print("|---|---|---|---|")
for name, show, key in rows:
    c, n = runs["ctypes"], runs["native"]
    print(f"| {name} | {show(c)} | {show(n)} | {c[key] / n[key]:.1f}x faster |")
# The same Python work in both runs: the best of either.
copy = min(runs["ctypes"]["data_copy"], runs["native"]["data_copy"])
print(f"\nBaseline for the DATA row: slicing the same 4 MiB into 64 `bytes`, one copy "
      f"each, takes {us(copy)} ({gbs(runs['native']['data_bytes'], copy)}).")
EOF
