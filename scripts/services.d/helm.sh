# shellcheck shell=bash
# The helm CLI (helm.sh/helm/v4 v4.3.2) for the Helm chart's `helm lint`/`helm template` tests
# (runtime/src/packaging/packaging.test.ts, helm-autoscaling.test.ts), built from the Go module proxy (no prebuilt
# download) into .cache/go-helm/bin, where the tests look first. The build runs in the background (GOMAXPROCS=1,
# nice) and is waited for in AFTER_START; .ci/run starts it (`scripts/services helm_build`) before `npm ci` so the two
# overlap.
# A default service (issue 10): measured cold on two idle cores, 277 s (233 s user CPU; 545 MB module cache, 1.2 GB
# build cache); 1,712 s on one niced core of the shared machine at load 10-22 (session 10). An optional build
# (background_build in scripts/services): when it fails or outlasts FLOWCREW_SLOW_BUILD_TIMEOUT, `npm test` goes on
# with a warning and the helm tests skip, saying why; `bash scripts/services helm` (named) fails instead.
DEFAULT_SERVICES+=(helm)
HELM_VERSION=v4.3.2
HELM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELM_DIR="${FLOWCREW_HELM_DIR:-$HELM_ROOT/.cache/go-helm}" # the tests look in the default place
HELM_BIN="$HELM_DIR/bin/helm"
background_build helm optional "helm $HELM_VERSION" "$HELM_DIR" "$HELM_BIN"

helm_build() {
  local start
  # Installed into bin/build, then moved: a stopped build leaves no half-written bin/helm behind.
  export GOMODCACHE="$HELM_DIR/gomod" GOCACHE="$HELM_DIR/gocache" GOBIN="$HELM_DIR/bin/build" CGO_ENABLED=0 GOMAXPROCS=1 GOTOOLCHAIN=local
  mkdir -p "$GOBIN"
  start=$(date +%s)
  local TIMEFORMAT='build CPU: %U s user, %S s sys'
  # -dwarf=false: -ldflags -s -w drops the debug info anyway; not making it costs ~15 % less compile CPU (measured).
  time (build_step nice -n 10 "$GO" install -p 1 -trimpath -gcflags=all=-dwarf=false -ldflags "-s -w" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") || return 1
  mv "$GOBIN/helm" "$HELM_BIN" || return 1
  echo "build took $(($(date +%s) - start)) s; binary $(du -h "$HELM_BIN" | cut -f1)"
}

# `scripts/services helm_build`: only start the build (.ci/run starts it early), nothing to wait for.
service_helm_build() { build_start helm; }

helm_wait_build() { build_wait helm || true; }

service_helm() {
  service_helm_build
  AFTER_START+=(helm_wait_build)
}
