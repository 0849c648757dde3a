#!/usr/bin/env bash
# Serve $VMSTACK_ARTIFACTS over HTTP on 127.0.0.1, as the "mirror" for the
# collection's mirror-URL install mode (the roles download on the controller,
# so a loopback address is enough).
#
#   serve-artifacts.sh start    start in the background (no-op if running); prints the URL
#   serve-artifacts.sh stop     stop it
#   serve-artifacts.sh url      print the base URL, e.g. http://127.0.0.1:38123 (fails if not running)
#   serve-artifacts.sh status   "running <url> <dir>" or "stopped" (exit 1)
#
# The port is picked once (a free one) and kept in $VMSTACK_CACHE/serve/port,
# so the URL stays the same across restarts while that port is free.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE=$VMSTACK_CACHE/serve
PORT_FILE=$STATE/port PID_FILE=$STATE/pid DIR_FILE=$STATE/dir LOG=$STATE/http.log
PYTHON=${VMSTACK_PYTHON:-/usr/bin/python3}

# is_running: the recorded pid is alive and is our http.server.
is_running() {
    local pid
    [[ -f $PID_FILE ]] || return 1
    pid=$(cat "$PID_FILE")
    [[ -n $pid && -r /proc/$pid/cmdline ]] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- '-m http.server'
}

url() { printf 'http://127.0.0.1:%s\n' "$(cat "$PORT_FILE")"; }

port_is_free() {
    "$PYTHON" - "$1" <<'EOF'
import socket, sys
s = socket.socket()
# Like http.server (allow_reuse_address): a port with connections still in
# TIME_WAIT after a stop counts as free.
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
EOF
}

pick_free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    [[ -d $VMSTACK_ARTIFACTS ]] || die "$VMSTACK_ARTIFACTS does not exist; run tests/bench/build-artifacts.sh first"
    mkdir -p "$STATE"
    if is_running; then
        # Already serving the right directory: nothing to do.
        if [[ $(cat "$DIR_FILE" 2>/dev/null) == "$VMSTACK_ARTIFACTS" ]]; then
            url
            return 0
        fi
        stop >/dev/null
    fi
    local port
    port=$(cat "$PORT_FILE" 2>/dev/null || true)
    if [[ -z $port ]] || ! port_is_free "$port"; then
        port=$(pick_free_port)
        printf '%s\n' "$port" >"$PORT_FILE"
    fi
    # Detached from the caller: its own session, and no inherited stdin/stdout,
    # so that "$(serve-artifacts.sh start)" returns at once.
    setsid "$PYTHON" -m http.server --bind 127.0.0.1 --directory "$VMSTACK_ARTIFACTS" "$port" \
        </dev/null >"$LOG" 2>&1 &
    printf '%s\n' "$!" >"$PID_FILE"
    printf '%s\n' "$VMSTACK_ARTIFACTS" >"$DIR_FILE"
    for _ in $(seq 1 50); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null; then
            url
            return 0
        fi
        is_running || break
        sleep 0.1
    done
    tail -n 20 "$LOG" >&2 || true
    die "the artifacts server did not come up on 127.0.0.1:$port"
}

stop() {
    if is_running; then
        local pid
        pid=$(cat "$PID_FILE")
        kill "$pid"
        for _ in $(seq 1 50); do
            [[ -d /proc/$pid ]] || break
            sleep 0.1
        done
        echo "stopped (pid $pid)"
    else
        echo "not running"
    fi
    rm -f "$PID_FILE"
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    url)
        is_running || die "the artifacts server is not running (tests/bench/serve-artifacts.sh start)"
        url
        ;;
    status)
        if is_running; then
            echo "running $(url) $(cat "$DIR_FILE")"
        else
            echo "stopped"
            exit 1
        fi
        ;;
    *) die "usage: $(basename "$0") start|stop|url|status" ;;
esac
