# shellcheck shell=bash
# Dapr 1.14 sidecar (daprd) for the Dapr pack (nodes/dapr) and the Dapr context-state backend: built from the Go
# module proxy (github.com/dapr/dapr v1.14.0; no prebuilt download) into .cache/dapr/bin. Only the components
# Flowcrew uses are compiled in (state.redis and pubsub.redis, on the Redis of scripts/services.d/redis.sh): the
# stock build compiles ~120 components and their cloud SDKs. The build runs in the background (GOMAXPROCS=1, nice)
# and is waited for in AFTER_START; .ci/run starts it (`scripts/services dapr_build`) before `npm ci` so the two
# overlap. The tests start their own daprd processes from the binary (each with its own ports and app), so nothing
# is left running here.
# A default service (issue 10): measured cold on two idle cores, 18 s download (1.2 GB module cache) and 234 s build
# (~200 s user CPU); on one niced core of a loaded shared machine it took 32-40 min (docs/dapr.md). An optional build
# (background_build in scripts/services): when it fails or outlasts FLOWCREW_SLOW_BUILD_TIMEOUT, `npm test` goes on
# with a warning and the Dapr tests skip, saying why; `bash scripts/services dapr` (named) fails instead.
DEFAULT_SERVICES+=(dapr)
DAPR_VERSION=v1.14.0
DAPR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DAPR_DIR="${FLOWCREW_DAPR_DIR:-$DAPR_ROOT/.cache/dapr}" # the tests look in the default place
DAPR_BIN="$DAPR_DIR/bin/daprd-${DAPR_VERSION#v}"
background_build dapr optional "daprd $DAPR_VERSION" "$DAPR_DIR" "$DAPR_BIN"

# Fetches the module source, keeps only the Redis component registrations of cmd/daprd/components, builds daprd.
dapr_build() {
  local src="$DAPR_DIR/src" start t_dl t_build
  export GOMODCACHE="$DAPR_DIR/gomod" GOCACHE="$DAPR_DIR/gocache" GOFLAGS=-mod=mod CGO_ENABLED=0 GOMAXPROCS=1 GOTOOLCHAIN=local
  mkdir -p "$DAPR_DIR/bin"
  start=$(date +%s)
  go_module_copy "github.com/dapr/dapr@$DAPR_VERSION" "$src" || return 1
  find "$src/cmd/daprd/components" -name '*.go' ! -name state_redis.go ! -name pubsub_redis.go -delete
  # Only the modules the trimmed build imports (go list -deps), not the whole go.mod (cloud SDKs of every component).
  (cd "$src" && build_step nice -n 10 "$GO" list -deps -tags stablecomponents ./cmd/daprd >/dev/null) || return 1
  t_dl=$(($(date +%s) - start))
  echo "download took $t_dl s ($(du -sh "$GOMODCACHE" | cut -f1) module cache)"
  start=$(date +%s)
  local TIMEFORMAT='build CPU: %U s user, %S s sys'
  # -dwarf=false: -ldflags -s -w drops the debug info anyway; not making it costs ~15 % less compile CPU (measured on helm).
  time (cd "$src" && build_step nice -n 10 "$GO" build -p 1 -trimpath -tags stablecomponents -gcflags=all=-dwarf=false \
    -ldflags "-s -w -X github.com/dapr/dapr/pkg/buildinfo.version=${DAPR_VERSION#v}" \
    -o "$DAPR_BIN.partial" ./cmd/daprd) || return 1
  mv "$DAPR_BIN.partial" "$DAPR_BIN" || return 1
  t_build=$(($(date +%s) - start))
  echo "build took $t_build s; binary $(du -h "$DAPR_BIN" | cut -f1)"
  rm -rf "$src" # the module cache keeps the source; the build cache makes a rebuild quick
}

# `scripts/services dapr_build`: only start the build (.ci/run starts it early), nothing to wait for.
service_dapr_build() { build_start dapr; }

dapr_wait_build() { build_wait dapr || true; }

service_dapr() {
  service_redis # the components of the tests (and of docs/dapr.md) use it
  service_dapr_build
  AFTER_START+=(dapr_wait_build)
}
