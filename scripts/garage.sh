#!/usr/bin/env bash
# A real S3-compatible store for the S3 backend's tests and for trying
# `oap serve --store s3://…` by hand: Garage, a distributed, replicated object
# store, as three nodes on loopback with replication factor 3.
#
#   scripts/garage.sh install   install Garage (pinned) into $OAP_TOOLS, once
#   scripts/garage.sh start     install if needed, start 3 nodes, apply a layout,
#                               create a bucket and a key; prints the environment
#   scripts/garage.sh env       print the environment a gateway needs
#                               (`eval "$(scripts/garage.sh env)"`)
#   scripts/garage.sh stop      stop the cluster and delete its data
#   scripts/garage.sh kill N    SIGKILL node N (1..3); `revive N` starts it again
#
# Garage is AGPL-3.0: it runs here as separate processes and is never linked.
# It is built from crates.io with `cargo install --locked` into
# $OAP_TOOLS/garage-$GARAGE_VERSION (default /var/tmp/oap-tools), outside the
# clone, so every later run reuses it; a warm check reads no registry. Cold,
# the build takes about 15 minutes on two cores.
#
# The cluster lives in $OAP_GARAGE_DIR (default /tmp/oap-garage): node N
# listens for RPC on 127.0.0.1:$((BASE+N*10)), for S3 on BASE+N*10+1 and for
# its admin API on BASE+N*10+3, with BASE=$OAP_GARAGE_PORT_BASE (default 39900).
set -euo pipefail

GARAGE_VERSION="2.5.0"
SELF="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
OAP_TOOLS="${OAP_TOOLS:-/var/tmp/oap-tools}"
GARAGE_ROOT="$OAP_TOOLS/garage-$GARAGE_VERSION"
GARAGE="$GARAGE_ROOT/bin/garage"
DIR="${OAP_GARAGE_DIR:-/tmp/oap-garage}"
BASE="${OAP_GARAGE_PORT_BASE:-39900}"
BUCKET="${OAP_GARAGE_BUCKET:-oap-test}"
REGION="garage"

install() {
    if [ -x "$GARAGE" ] && "$GARAGE" --version 2>/dev/null | grep -qF "$GARAGE_VERSION"; then
        return 0
    fi
    echo "==> cargo install garage $GARAGE_VERSION --root $GARAGE_ROOT (about 15 min cold)" >&2
    local start=$SECONDS
    mkdir -p "$GARAGE_ROOT"
    # Only what the tests use: SQLite metadata, bundled C libraries. No LMDB,
    # no K2V, no metrics exporter: a shorter build.
    env -u CARGO_TARGET_DIR cargo install garage --locked --quiet \
        --version "$GARAGE_VERSION" --root "$GARAGE_ROOT" \
        --no-default-features --features bundled-libs,sqlite
    echo "==> garage installed in $((SECONDS - start)) s" >&2
}

node_dir() { echo "$DIR/n$1"; }
rpc_port() { echo $((BASE + $1 * 10)); }
s3_port() { echo $((BASE + $1 * 10 + 1)); }
admin_port() { echo $((BASE + $1 * 10 + 3)); }
conf() { echo "$(node_dir "$1")/garage.toml"; }
g() { local n=$1; shift; "$GARAGE" -c "$(conf "$n")" "$@"; }

# Fixed credentials for a throwaway local cluster: the key is imported, not
# generated, so `env` needs no state beyond the ports.
RPC_SECRET="0a9e1b6e7f3c4d2a8b5e6f7a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"
KEY_ID="GK0a1b2c3d4e5f6a7b8c9d0e1f"
KEY_SECRET="6f2c3e1a9b8d7c6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e"

write_config() {
    local n=$1 d
    d=$(node_dir "$n")
    mkdir -p "$d/meta" "$d/data"
    cat >"$(conf "$n")" <<CONF
metadata_dir = "$d/meta"
data_dir = "$d/data"
db_engine = "sqlite"
replication_factor = 3
rpc_bind_addr = "127.0.0.1:$(rpc_port "$n")"
rpc_public_addr = "127.0.0.1:$(rpc_port "$n")"
rpc_secret = "$RPC_SECRET"

[s3_api]
s3_region = "$REGION"
api_bind_addr = "127.0.0.1:$(s3_port "$n")"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$(admin_port "$n")"
CONF
}

# Starts node N in the background, its pid in its folder.
run_node() {
    local n=$1 d
    d=$(node_dir "$n")
    RUST_LOG="${OAP_GARAGE_LOG:-warn}" setsid "$GARAGE" -c "$(conf "$n")" server \
        >>"$d/log" 2>&1 </dev/null &
    echo $! >"$d/pid"
}

# Waits (10 s at most) until node N answers on its RPC port.
wait_node() {
    local n=$1 i
    for i in $(seq 100); do
        if g "$n" status >/dev/null 2>&1; then return 0; fi
        sleep 0.1
    done
    echo "garage node $n did not start; its log: $(node_dir "$n")/log" >&2
    tail -20 "$(node_dir "$n")/log" >&2 || true
    return 1
}

node_id() { g "$1" node id -q 2>/dev/null | head -1; }

start() {
    install
    stop_nodes
    rm -rf "$DIR"
    local n
    for n in 1 2 3; do write_config "$n"; run_node "$n"; done
    for n in 1 2 3; do wait_node "$n"; done
    for n in 2 3; do g 1 node connect "$(node_id "$n")" >/dev/null; done
    for n in 1 2 3; do
        g 1 layout assign -z "dc$n" -c 100G "$(node_id "$n" | cut -d@ -f1)" >/dev/null
    done
    g 1 layout apply --version 1 >/dev/null
    g 1 key import --yes -n oap "$KEY_ID" "$KEY_SECRET" >/dev/null
    g 1 bucket create "$BUCKET" >/dev/null
    g 1 bucket allow --read --write --owner "$BUCKET" --key "$KEY_ID" >/dev/null
    echo "# garage $GARAGE_VERSION: 3 nodes in $DIR, bucket $BUCKET" >&2
    env_lines
}

env_lines() {
    cat <<ENV
export AWS_ENDPOINT_URL=http://127.0.0.1:$(s3_port 1)
export AWS_REGION=$REGION
export AWS_ACCESS_KEY_ID=$KEY_ID
export AWS_SECRET_ACCESS_KEY=$KEY_SECRET
export AWS_ALLOW_HTTP=true
export OAP_S3_BUCKET=$BUCKET
export OAP_S3_ENDPOINTS=http://127.0.0.1:$(s3_port 1),http://127.0.0.1:$(s3_port 2),http://127.0.0.1:$(s3_port 3)
export OAP_GARAGE=$SELF
export OAP_GARAGE_DIR=$DIR
ENV
}

stop_nodes() {
    local n pid
    for n in 1 2 3; do
        pid=$(cat "$(node_dir "$n")/pid" 2>/dev/null || true)
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            # Up to 5 s to exit, then for good.
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            kill -9 "$pid" 2>/dev/null || true
        fi
    done
}

case "${1:-}" in
install) install ;;
start) start ;;
env) env_lines ;;
stop) stop_nodes; rm -rf "$DIR" ;;
kill)
    pid=$(cat "$(node_dir "${2:?node 1..3}")/pid")
    kill -9 "$pid"
    # Reaped, so the port is free for `revive`.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    ;;
revive) run_node "${2:?node 1..3}"; wait_node "$2" ;;
*) echo "usage: $0 install|start|env|stop|kill N|revive N" >&2; exit 2 ;;
esac
