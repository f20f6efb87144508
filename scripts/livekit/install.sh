#!/usr/bin/env bash
# Install a pinned LiveKit server binary for local dev, tests and CI.
#
#   scripts/livekit/install.sh            # builds once, then reuses the cached binary
#   BIN=$(scripts/livekit/install.sh)     # progress goes to stderr; stdout is only the path
#
# The binary lands in ${UTD_LIVEKIT_CACHE:-$HOME/.cache/utd-livekit}/<tag>/livekit-server
# (outside the repo, keyed by version) and the build is skipped when it is already there.
#
# Version choice: v1.13.3.
#   - Built first try with `CGO_ENABLED=0 go install github.com/livekit/livekit-server/cmd/server@v1.13.3`
#     (Go 1.26.8, ~1m45s on 2 cores with a warm module download; `server --version` ->
#     "livekit-server version 1.13.3").
#   - Chosen because its go.mod pins a *tagged* github.com/livekit/protocol (v1.48.2), which the
#     reachable Go module proxy serves reliably, and it has no `replace` directives (v1.13.0/v1.13.1
#     and @master do, and `go install pkg@version` refuses those).
#   - Fallbacks, in order, if this tag ever stops building: v1.11.0 (Go 1.25), v1.13.5, v1.12.0,
#     v1.9.12 (Go 1.24). v1.12.0+ need Go 1.26. Override with UTD_LIVEKIT_VERSION=<tag>.
set -euo pipefail

TAG="${UTD_LIVEKIT_VERSION:-v1.13.3}"
CACHE="${UTD_LIVEKIT_CACHE:-$HOME/.cache/utd-livekit}"
DEST="$CACHE/$TAG"
BIN="$DEST/livekit-server"

log() { printf '[livekit-install] %s\n' "$*" >&2; }

have_binary() { [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1; }

if have_binary; then
  log "already installed: $("$BIN" --version 2>&1 | head -n1)"
  printf '%s\n' "$BIN"
  exit 0
fi

command -v go >/dev/null 2>&1 || {
  log "error: 'go' not found on PATH (LiveKit $TAG needs Go >= 1.26 to build)"
  exit 1
}

mkdir -p "$DEST"

# Serialize concurrent installs of the same tag (parallel test runners, CI jobs).
exec 9>"$DEST/.install.lock"
if command -v flock >/dev/null 2>&1; then
  log "waiting for install lock $DEST/.install.lock"
  flock 9
fi
if have_binary; then  # someone else finished the build while we waited
  log "already installed: $("$BIN" --version 2>&1 | head -n1)"
  printf '%s\n' "$BIN"
  exit 0
fi

GOBIN_TMP="$(mktemp -d "$DEST/.gobin.XXXXXX")"
trap 'rm -rf "$GOBIN_TMP"' EXIT

log "building livekit-server $TAG with $(go version | awk '{print $3}') (takes a few minutes on a cold cache)"
log "  CGO_ENABLED=0 GOBIN=$GOBIN_TMP go install github.com/livekit/livekit-server/cmd/server@$TAG"
start_s=$SECONDS
# Run outside any module so a go.mod/go.work in the caller's cwd cannot interfere.
(
  cd "$GOBIN_TMP"
  CGO_ENABLED=0 GOBIN="$GOBIN_TMP" GOWORK=off \
    go install "github.com/livekit/livekit-server/cmd/server@$TAG"
) >&2
log "build finished in $((SECONDS - start_s))s"

[[ -x "$GOBIN_TMP/server" ]] || { log "error: go install did not produce $GOBIN_TMP/server"; exit 1; }
mv -f "$GOBIN_TMP/server" "$BIN"   # same filesystem: atomic rename server -> livekit-server

have_binary || { log "error: $BIN does not run"; exit 1; }
log "installed: $("$BIN" --version 2>&1 | head -n1)"
printf '%s\n' "$BIN"
