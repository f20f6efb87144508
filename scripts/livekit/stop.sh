#!/usr/bin/env bash
# Stop the LiveKit server started by scripts/livekit/start.sh (same LIVEKIT_PORT / UTD_LIVEKIT_CACHE).
# Sends SIGTERM to the pid in $CACHE/run/<port>/livekit.pid, waits up to 10 s, then SIGKILL.
# Exits 0 when nothing is running.
set -euo pipefail

CACHE="${UTD_LIVEKIT_CACHE:-$HOME/.cache/utd-livekit}"
PORT="${LIVEKIT_PORT:-7880}"
RUN="$CACHE/run/$PORT"
PIDF="$RUN/livekit.pid"

log() { printf '[livekit-stop] %s\n' "$*" >&2; }

# Running, not a zombie (when the parent that reaps it is slow, e.g. PID 1 in a container).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  if [[ -r "/proc/$1/stat" ]]; then
    local st; st="$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null || true)"
    [[ "$st" != Z && "$st" != X ]] || return 1
  fi
  return 0
}

# Drop $CACHE/env if it describes this port's server.
clear_env() {
  if [[ -f "$CACHE/env" ]] && grep -q "^LIVEKIT_URL=ws://127.0.0.1:$PORT\$" "$CACHE/env"; then
    rm -f "$CACHE/env"
  fi
}

if [[ ! -f "$PIDF" ]]; then
  log "no pid file at $PIDF; nothing to stop"
  clear_env
  exit 0
fi

PID="$(<"$PIDF")"
if ! [[ "$PID" =~ ^[0-9]+$ ]] || ! alive "$PID"; then
  log "pid '$PID' is not running; removing stale pid file"
  rm -f "$PIDF"
  clear_env
  exit 0
fi

# Guard against pid reuse: only signal it if it is really a livekit-server.
if [[ -r "/proc/$PID/cmdline" ]] && ! tr '\0' ' ' <"/proc/$PID/cmdline" | grep -q 'livekit-server'; then
  log "pid $PID is not a livekit-server (pid reused?); removing stale pid file"
  rm -f "$PIDF"
  clear_env
  exit 0
fi

log "stopping livekit-server pid $PID (port $PORT)"
kill -TERM "$PID" 2>/dev/null || true
for _ in $(seq 1 50); do
  alive "$PID" || break
  sleep 0.2
done
if alive "$PID"; then
  log "still running after 10s; sending SIGKILL"
  kill -KILL "$PID" 2>/dev/null || true
  sleep 0.2
fi

rm -f "$PIDF"
clear_env
log "stopped"
