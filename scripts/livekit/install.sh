#!/usr/bin/env bash
# Install a pinned LiveKit server binary for local dev, tests and CI.
#
#   scripts/livekit/install.sh            # installs once, then reuses the cached binary
#   BIN=$(scripts/livekit/install.sh)     # progress goes to stderr; stdout is only the path
#
# Two paths, and it says which one it took:
#   1. download: LiveKit's official release archive for this platform at the pinned version
#      (<base>/<tag>/livekit_<ver>_<os>_<arch>.tar.gz) and the release's checksum file
#      (livekit_<ver>_checksums.txt, sha256); the archive is used only when its checksum matches.
#   2. go build: only when the download is unreachable, incomplete or fails verification.
# Env: UTD_LIVEKIT_DOWNLOAD_URL   release base URL (default https://github.com/livekit/livekit/releases/download)
#      UTD_LIVEKIT_DOWNLOAD=off   skip the download and build with Go
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

# --- path 1: the release archive, verified against the release's checksum file ---------------------
BASE="${UTD_LIVEKIT_DOWNLOAD_URL:-https://github.com/livekit/livekit/releases/download}"
VER="${TAG#v}"
case "$(uname -s)" in Linux) OS=linux ;; Darwin) OS=darwin ;; *) OS="" ;; esac
case "$(uname -m)" in x86_64 | amd64) ARCH=amd64 ;; aarch64 | arm64) ARCH=arm64 ;; armv7l) ARCH=armv7 ;; *) ARCH="" ;; esac
ARCHIVE="livekit_${VER}_${OS}_${ARCH}.tar.gz"
SUMS="livekit_${VER}_checksums.txt"

fetch() {  # fetch URL FILE: progress on stderr; fails on HTTP errors and after 20 s without a connection
  if command -v curl >/dev/null 2>&1; then
    curl -fL --connect-timeout 20 --retry 1 $( [[ -t 2 ]] && printf -- --progress-bar || printf -- -sS ) -o "$2" "$1" >&2
  else
    node -e 'const [u,f]=process.argv.slice(1);fetch(u,{signal:AbortSignal.timeout(600000)}).then(async r=>{if(!r.ok)throw new Error("HTTP "+r.status);require("fs").writeFileSync(f,Buffer.from(await r.arrayBuffer()))}).catch(e=>{console.error(String(e.message||e));process.exit(1)})' "$1" "$2"
  fi
}

sha256() { if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi; }

download() {  # 0 when $BIN was installed from a verified release archive
  [[ -n "$OS" && -n "$ARCH" ]] || { log "download: no release archive for $(uname -s)/$(uname -m)"; return 1; }
  local tmp; tmp="$(mktemp -d "$DEST/.download.XXXXXX")"
  log "download: $BASE/$TAG/$ARCHIVE"
  if ! fetch "$BASE/$TAG/$SUMS" "$tmp/$SUMS" || ! fetch "$BASE/$TAG/$ARCHIVE" "$tmp/$ARCHIVE"; then
    log "download: unreachable or incomplete"; rm -rf "$tmp"; return 1
  fi
  local want got
  want="$(awk -v f="$ARCHIVE" '$2 == f || $2 == "*" f {print $1}' "$tmp/$SUMS" | head -n1)"
  got="$(sha256 "$tmp/$ARCHIVE")"
  if [[ -z "$want" ]]; then log "download: $SUMS lists no checksum for $ARCHIVE: refused"; rm -rf "$tmp"; return 1; fi
  if [[ "$want" != "$got" ]]; then
    log "download: checksum mismatch for $ARCHIVE (expected $want, got $got): refused"; rm -rf "$tmp"; return 1
  fi
  log "download: checksum ok (sha256 $got)"
  if ! tar -xzf "$tmp/$ARCHIVE" -C "$tmp" livekit-server 2>/dev/null || [[ ! -x "$tmp/livekit-server" ]]; then
    log "download: the archive holds no livekit-server: refused"; rm -rf "$tmp"; return 1
  fi
  if ! "$tmp/livekit-server" --version >/dev/null 2>&1; then
    log "download: the downloaded livekit-server does not run here: refused"; rm -rf "$tmp"; return 1
  fi
  mv -f "$tmp/livekit-server" "$BIN"
  rm -rf "$tmp"
}

if [[ "${UTD_LIVEKIT_DOWNLOAD:-on}" != off ]]; then
  if download; then
    log "installed from the release archive (path: download): $("$BIN" --version 2>&1 | head -n1)"
    printf '%s\n' "$BIN"
    exit 0
  fi
  log "falling back to the Go build (path: go build)"
else
  log "UTD_LIVEKIT_DOWNLOAD=off: building with Go (path: go build)"
fi

# --- path 2: go build ---------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || {
  log "error: 'go' not found on PATH (LiveKit $TAG needs Go >= 1.26 to build), and no verified release archive"
  exit 1
}

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
