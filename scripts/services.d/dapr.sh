# shellcheck shell=bash
# Dapr 1.14 sidecar (daprd) for the Dapr pack (nodes/dapr) and the Dapr context-state backend: built from the Go
# module proxy (github.com/dapr/dapr v1.14.0; no prebuilt download) into .cache/dapr/bin. Only the components
# Flowcrew uses are compiled in (state.redis and pubsub.redis, on the Redis of scripts/services.d/redis.sh): the
# stock build compiles ~120 components and their cloud SDKs. The build runs in the background (GOMAXPROCS=1, nice)
# and is waited for in AFTER_START. The tests start their own daprd processes from the binary (each with its own
# ports and app), so nothing is left running here.
# NOT in DEFAULT_SERVICES: the build costs more than CI's budget allows on a fresh machine (measured: 20 s download,
# 1.2 GB module cache; 307 s user + 36 s sys of CPU, 32-40 min wall on one niced core of the loaded shared machine;
# see docs/dapr.md); the Dapr tests
# skip with the reason when the binary is missing. Run `bash scripts/services dapr` to get it.
DAPR_VERSION=v1.14.0
DAPR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DAPR_DIR="$DAPR_ROOT/.cache/dapr"
DAPR_BIN="$DAPR_DIR/bin/daprd-${DAPR_VERSION#v}"

dapr_building() { local pid; pid="$(cat "$DAPR_DIR/build.pid" 2>/dev/null)"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# Fetches the module source, keeps only the Redis component registrations of cmd/daprd/components, builds daprd.
dapr_build() {
  local go_cmd src="$DAPR_DIR/src" start t_dl t_build
  go_cmd="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$go_cmd" ] || { echo "Go is not installed"; return 1; }
  export GOMODCACHE="$DAPR_DIR/gomod" GOCACHE="$DAPR_DIR/gocache" GOFLAGS=-mod=mod CGO_ENABLED=0 GOMAXPROCS=1 GOTOOLCHAIN=local
  start=$(date +%s)
  local dir
  dir="$(cd "$DAPR_DIR" && "$go_cmd" mod download -json "github.com/dapr/dapr@$DAPR_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$dir" ] || { echo "go mod download github.com/dapr/dapr@$DAPR_VERSION gave no source directory"; return 1; }
  rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src" || return 1
  find "$src/cmd/daprd/components" -name '*.go' ! -name state_redis.go ! -name pubsub_redis.go -delete
  # Only the modules the trimmed build imports (go list -deps), not the whole go.mod (cloud SDKs of every component).
  (cd "$src" && nice -n 10 "$go_cmd" list -deps -tags stablecomponents ./cmd/daprd >/dev/null) || return 1
  t_dl=$(($(date +%s) - start))
  echo "download took $t_dl s ($(du -sh "$GOMODCACHE" | cut -f1) module cache)"
  start=$(date +%s)
  local TIMEFORMAT='build CPU: %U s user, %S s sys'
  time (cd "$src" && nice -n 10 "$go_cmd" build -p 1 -trimpath -tags stablecomponents \
    -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION#v}" \
    -o "$DAPR_BIN.partial" ./cmd/daprd) || return 1
  mv "$DAPR_BIN.partial" "$DAPR_BIN"
  t_build=$(($(date +%s) - start))
  echo "build took $t_build s; binary $(du -h "$DAPR_BIN" | cut -f1)"
  rm -rf "$src" # the module cache keeps the source; the build cache makes a rebuild quick
}

dapr_start_build() {
  if dapr_building; then
    log "daprd is being built by another run (log: .cache/dapr/build.log)"
    return 0
  fi
  mkdir -p "$DAPR_DIR/bin"
  log "building daprd $DAPR_VERSION from the Go module proxy in the background (log: .cache/dapr/build.log)"
  (dapr_build) >"$DAPR_DIR/build.log" 2>&1 &
  echo $! >"$DAPR_DIR/build.pid"
}

dapr_wait_build() {
  local pid
  pid="$(cat "$DAPR_DIR/build.pid" 2>/dev/null)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "waiting for the daprd build (log: .cache/dapr/build.log)"
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
  fi
  [ -x "$DAPR_BIN" ] || die "daprd build failed (see .cache/dapr/build.log): $(tail -n 5 "$DAPR_DIR/build.log")"
  log "daprd ready: $DAPR_BIN ($(grep -h -E 'took|CPU' "$DAPR_DIR/build.log" | tr '\n' ' '))"
}

service_dapr() {
  service_redis # the components of the tests (and of docs/dapr.md) use it
  if [ -x "$DAPR_BIN" ]; then
    log "daprd $DAPR_VERSION already built: $DAPR_BIN"
    return 0
  fi
  dapr_start_build
  AFTER_START+=(dapr_wait_build)
}
