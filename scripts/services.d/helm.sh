# shellcheck shell=bash
# The helm CLI (helm.sh/helm/v4 v4.3.2) for the Helm chart's `helm lint`/`helm template` tests
# (runtime/src/packaging/packaging.test.ts, helm-autoscaling.test.ts), built from the Go module proxy (no prebuilt
# download) into .cache/go-helm/bin, where the tests look first. The build runs in the background (GOMAXPROCS=1,
# nice) and is waited for in AFTER_START; .ci/run starts it (`scripts/services helm_build`) before `npm ci` so the two
# overlap.
# A default service (issue 10): measured cold on two idle cores, 277 s (233 s user CPU; 545 MB module cache, 1.2 GB
# build cache); 1,712 s on one niced core of the shared machine at load 10-22 (session 10). An optional tool: when
# the build fails or outlasts FLOWCREW_SLOW_BUILD_TIMEOUT (scripts/services), `npm test` goes on with a warning and
# the helm tests skip, saying why; `bash scripts/services helm` (named) fails instead.
DEFAULT_SERVICES+=(helm)
HELM_VERSION=v4.3.2
HELM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELM_DIR="$HELM_ROOT/.cache/go-helm"
HELM_BIN="$HELM_DIR/bin/helm"

helm_build() {
  local go_cmd start
  go_cmd="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$go_cmd" ] || { echo "Go is not installed"; return 1; }
  # Installed into bin/build, then moved: a stopped build leaves no half-written bin/helm behind.
  export GOMODCACHE="$HELM_DIR/gomod" GOCACHE="$HELM_DIR/gocache" GOBIN="$HELM_DIR/bin/build" CGO_ENABLED=0 GOMAXPROCS=1 GOTOOLCHAIN=local
  mkdir -p "$GOBIN"
  start=$(date +%s)
  local TIMEFORMAT='build CPU: %U s user, %S s sys'
  # -dwarf=false: -ldflags -s -w drops the debug info anyway; not making it costs ~15 % less compile CPU (measured).
  time (build_step nice -n 10 "$go_cmd" install -p 1 -trimpath -gcflags=all=-dwarf=false -ldflags "-s -w" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") || return 1
  mv "$GOBIN/helm" "$HELM_BIN"
  echo "build took $(($(date +%s) - start)) s; binary $(du -h "$HELM_BIN" | cut -f1)"
}

# `scripts/services helm_build`: only start the build (.ci/run starts it early), nothing to wait for.
service_helm_build() {
  [ -x "$HELM_BIN" ] && { log "helm $HELM_VERSION already built"; return 0; }
  optional_build_start "helm $HELM_VERSION" "$HELM_DIR" helm_build
}

helm_wait_build() {
  optional_build_wait "helm $HELM_VERSION" "$HELM_DIR" "$HELM_BIN" || return 0
  log "helm ready: $("$HELM_BIN" version --short) ($(grep -h -E 'took|CPU' "$HELM_DIR/build.log" | tr '\n' ' '))"
}

service_helm() {
  if [ -x "$HELM_BIN" ]; then
    log "helm already built: $HELM_BIN ($("$HELM_BIN" version --short))"
    return 0
  fi
  service_helm_build
  AFTER_START+=(helm_wait_build)
}
