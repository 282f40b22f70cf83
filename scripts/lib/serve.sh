# Sourced by test steps: starts `oap serve` on free loopback ports and
# waits (with a deadline, not a sleep) for the line naming its address.
#   start_oap_serve [ARGS...]  sets OAP_BIN, OAP_ADDR and OAP_PID
#   stop_oap_serve             ends it (safe to call twice)
# The caller sets `work` to a scratch directory for the server's stderr.

start_oap_serve() {
    cargo build --quiet -p cli
    OAP_BIN="$CARGO_TARGET_DIR/debug/oap"
    # Its stdout comes through fd 3; read -t bounds the wait.
    exec 3< <(exec "$OAP_BIN" serve --listen 127.0.0.1:0 --admin 127.0.0.1:0 "$@" \
        2>"$work/serve.err")
    OAP_PID=$!
    OAP_ADDR=""
    local line
    while [ -z "$OAP_ADDR" ] && IFS= read -r -t 20 -u 3 line; do
        OAP_ADDR=${line#oap listening on oap://}
        [ "$OAP_ADDR" = "$line" ] && OAP_ADDR=""
    done
    if [ -z "$OAP_ADDR" ]; then
        echo "oap serve did not start"; cat "$work/serve.err"; return 1
    fi
}

stop_oap_serve() {
    if [ -n "${OAP_PID:-}" ]; then
        kill "$OAP_PID" 2>/dev/null || true
        wait "$OAP_PID" 2>/dev/null || true
        OAP_PID=""
    fi
}
