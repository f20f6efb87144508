#!/usr/bin/env bash
# Build a pinned Centrifugo v6 server from Go modules, for bench/fanout (a peer, never a dependency).
#
#   bench/fanout/centrifugo-install.sh          # builds once, then reuses the cached binary
#   BIN=$(bench/fanout/centrifugo-install.sh)   # progress goes to stderr; stdout is only the path
#
# `go install github.com/centrifugal/centrifugo/v6@<tag>` into
# ${UTD_CENTRIFUGO_CACHE:-$HOME/.cache/utd-centrifugo}/<tag>/centrifugo (outside the repo, keyed by version).
# Tag: v6.9.1 (override with UTD_CENTRIFUGO_VERSION). If the module proxy refuses it, the newest v6 tag
# that `go list -m -versions github.com/centrifugal/centrifugo/v6` lists is tried, and the log says so.
# UTD_CENTRIFUGO_NO_BUILD=1: print the path of an already built binary (any cached tag) or fail; never build.
set -euo pipefail

TAG="${UTD_CENTRIFUGO_VERSION:-v6.9.1}"
CACHE="${UTD_CENTRIFUGO_CACHE:-$HOME/.cache/utd-centrifugo}"
MOD="github.com/centrifugal/centrifugo/v6"

log() { printf '[centrifugo-install] %s\n' "$*" >&2; }

bin_for() { printf '%s/%s/centrifugo' "$CACHE" "$1"; }
have() { [[ -x "$(bin_for "$1")" ]] && "$(bin_for "$1")" version >/dev/null 2>&1; }

build() {
  local tag="$1" dest="$CACHE/$1"
  mkdir -p "$dest"
  exec 9>"$dest/.install.lock"
  command -v flock >/dev/null 2>&1 && flock 9
  if have "$tag"; then return 0; fi
  log "go install $MOD@$tag (this takes a few minutes on 2 cores)"
  GOBIN="$dest" CGO_ENABLED=0 go install "$MOD@$tag" >&2
}

if [[ "${UTD_CENTRIFUGO_NO_BUILD:-}" == 1 ]]; then
  # Only report a binary that is already there (the CI smoke uses it when present, never builds it).
  for t in "$CACHE"/*/; do
    t="$(basename "$t")"
    if have "$t"; then bin_for "$t"; echo; exit 0; fi
  done
  log "not installed (UTD_CENTRIFUGO_NO_BUILD=1): run bench/fanout/centrifugo-install.sh"
  exit 1
fi

for t in "$TAG"; do
  if have "$t" || build "$t"; then
    log "installed: $("$(bin_for "$t")" version 2>&1 | head -n1)"
    bin_for "$t"; echo
    exit 0
  fi
done

log "$MOD@$TAG did not build; asking the module proxy for the newest v6 tag"
NEWEST="$(go list -m -versions "$MOD" 2>/dev/null | tr ' ' '\n' | grep '^v6\.' | tail -n1 || true)"
if [[ -n "$NEWEST" && "$NEWEST" != "$TAG" ]]; then
  log "trying $NEWEST instead of $TAG"
  if have "$NEWEST" || build "$NEWEST"; then
    log "installed: $("$(bin_for "$NEWEST")" version 2>&1 | head -n1) (NOT $TAG)"
    bin_for "$NEWEST"; echo
    exit 0
  fi
fi
log "could not build Centrifugo v6"
exit 1
