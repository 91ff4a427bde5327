# shellcheck shell=bash
# Dapr 1.14 sidecar (daprd) for the Dapr pack (nodes/dapr) and the Dapr context-state backend: built from the Go
# module proxy (github.com/dapr/dapr v1.14.0; no prebuilt download) into .cache/dapr/bin. Only the components
# Flowcrew uses are compiled in (state.redis and pubsub.redis, on the Redis of scripts/services.d/redis.sh): the
# stock build compiles ~120 components and their cloud SDKs. The build runs in the background (GOMAXPROCS=1, nice)
# and is waited for in AFTER_START; .ci/run starts it (`scripts/services dapr_build`) before `npm ci` so the two
# overlap. The tests start their own daprd processes from the binary (each with its own ports and app), so nothing
# is left running here.
# A default service (issue 10): measured cold on two idle cores, 18 s download (1.2 GB module cache) and 234 s build
# (~200 s user CPU); on one niced core of a loaded shared machine it took 32-40 min (docs/dapr.md). An optional tool:
# when the build fails or outlasts FLOWCREW_SLOW_BUILD_TIMEOUT (scripts/services), `npm test` goes on with a warning
# and the Dapr tests skip, saying why; `bash scripts/services dapr` (named) fails instead.
DEFAULT_SERVICES+=(dapr)
DAPR_VERSION=v1.14.0
DAPR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DAPR_DIR="$DAPR_ROOT/.cache/dapr"
DAPR_BIN="$DAPR_DIR/bin/daprd-${DAPR_VERSION#v}"

# Fetches the module source, keeps only the Redis component registrations of cmd/daprd/components, builds daprd.
dapr_build() {
  local go_cmd src="$DAPR_DIR/src" start t_dl t_build
  go_cmd="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$go_cmd" ] || { echo "Go is not installed"; return 1; }
  export GOMODCACHE="$DAPR_DIR/gomod" GOCACHE="$DAPR_DIR/gocache" GOFLAGS=-mod=mod CGO_ENABLED=0 GOMAXPROCS=1 GOTOOLCHAIN=local
  mkdir -p "$DAPR_DIR/bin"
  start=$(date +%s)
  local json dir
  json="$(cd "$DAPR_DIR" && build_step "$go_cmd" mod download -json "github.com/dapr/dapr@$DAPR_VERSION")"
  dir="$(sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p' <<<"$json")"
  [ -d "$dir" ] || { echo "go mod download github.com/dapr/dapr@$DAPR_VERSION failed: $(sed -n 's/^[[:space:]]*"Error": "\(.*\)",*$/\1/p' <<<"$json")"; return 1; }
  rm -rf "$src" && cp -r "$dir" "$src" && chmod -R u+w "$src" || return 1
  find "$src/cmd/daprd/components" -name '*.go' ! -name state_redis.go ! -name pubsub_redis.go -delete
  # Only the modules the trimmed build imports (go list -deps), not the whole go.mod (cloud SDKs of every component).
  (cd "$src" && build_step nice -n 10 "$go_cmd" list -deps -tags stablecomponents ./cmd/daprd >/dev/null) || return 1
  t_dl=$(($(date +%s) - start))
  echo "download took $t_dl s ($(du -sh "$GOMODCACHE" | cut -f1) module cache)"
  start=$(date +%s)
  local TIMEFORMAT='build CPU: %U s user, %S s sys'
  # -dwarf=false: -ldflags -s -w drops the debug info anyway; not making it costs ~15 % less compile CPU (measured on helm).
  time (cd "$src" && build_step nice -n 10 "$go_cmd" build -p 1 -trimpath -tags stablecomponents -gcflags=all=-dwarf=false \
    -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION#v}" \
    -o "$DAPR_BIN.partial" ./cmd/daprd) || return 1
  mv "$DAPR_BIN.partial" "$DAPR_BIN"
  t_build=$(($(date +%s) - start))
  echo "build took $t_build s; binary $(du -h "$DAPR_BIN" | cut -f1)"
  rm -rf "$src" # the module cache keeps the source; the build cache makes a rebuild quick
}

# `scripts/services dapr_build`: only start the build (.ci/run starts it early), nothing to wait for.
service_dapr_build() {
  [ -x "$DAPR_BIN" ] && { log "daprd $DAPR_VERSION already built"; return 0; }
  optional_build_start "daprd $DAPR_VERSION" "$DAPR_DIR" dapr_build
}

dapr_wait_build() {
  optional_build_wait "daprd $DAPR_VERSION" "$DAPR_DIR" "$DAPR_BIN" || return 0
  log "daprd ready: $DAPR_BIN ($(grep -h -E 'took|CPU' "$DAPR_DIR/build.log" | tr '\n' ' '))"
}

service_dapr() {
  service_redis # the components of the tests (and of docs/dapr.md) use it
  if [ -x "$DAPR_BIN" ]; then
    log "daprd $DAPR_VERSION already built: $DAPR_BIN"
    return 0
  fi
  service_dapr_build
  AFTER_START+=(dapr_wait_build)
}
