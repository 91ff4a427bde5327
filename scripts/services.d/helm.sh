# shellcheck shell=bash
# The helm CLI (helm.sh/helm/v4 v4.3.2) for the Helm chart's `helm lint`/`helm template` test
# (runtime/src/packaging/packaging.test.ts), built from the Go module proxy (no prebuilt download) into
# .cache/go-helm/bin, where the test looks first. The build runs in the background (GOMAXPROCS=1, nice) and is waited
# for in AFTER_START.
# NOT in DEFAULT_SERVICES: helm brings the Kubernetes client modules; the build costs more than CI's budget allows on a
# fresh machine (measured in session 10: 1,712 s wall on one niced core of the shared machine at load 10-22; 545 MB
# module cache, 1.2 GB build cache). The tests skip with the reason when the binary is missing.
# Run `bash scripts/services helm` to get it.
HELM_VERSION=v4.3.2
HELM_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
HELM_DIR="$HELM_ROOT/.cache/go-helm"
HELM_BIN="$HELM_DIR/bin/helm"

helm_building() { local pid; pid="$(cat "$HELM_DIR/build.pid" 2>/dev/null)"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

helm_build() {
  local go_cmd start
  go_cmd="$(command -v go || echo /usr/local/go/bin/go)"
  [ -x "$go_cmd" ] || { echo "Go is not installed"; return 1; }
  export GOMODCACHE="$HELM_DIR/gomod" GOCACHE="$HELM_DIR/gocache" GOBIN="$HELM_DIR/bin" CGO_ENABLED=0 GOMAXPROCS=1 GOTOOLCHAIN=local
  start=$(date +%s)
  local TIMEFORMAT='build CPU: %U s user, %S s sys'
  time (nice -n 10 "$go_cmd" install -p 1 -trimpath -ldflags "-s -w" "helm.sh/helm/v4/cmd/helm@$HELM_VERSION") || return 1
  echo "build took $(($(date +%s) - start)) s; binary $(du -h "$HELM_BIN" | cut -f1)"
}

helm_wait_build() {
  local pid
  pid="$(cat "$HELM_DIR/build.pid" 2>/dev/null)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "waiting for the helm build (log: .cache/go-helm/build.log)"
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
  fi
  [ -x "$HELM_BIN" ] || die "helm build failed (see .cache/go-helm/build.log): $(tail -n 5 "$HELM_DIR/build.log")"
  log "helm ready: $("$HELM_BIN" version --short)"
}

service_helm() {
  if [ -x "$HELM_BIN" ]; then
    log "helm already built: $HELM_BIN ($("$HELM_BIN" version --short))"
    return 0
  fi
  if helm_building; then
    log "helm is being built by another run (log: .cache/go-helm/build.log)"
  else
    mkdir -p "$HELM_DIR/bin"
    log "building helm $HELM_VERSION from the Go module proxy in the background (log: .cache/go-helm/build.log)"
    (helm_build) >"$HELM_DIR/build.log" 2>&1 &
    echo $! >"$HELM_DIR/build.pid"
  fi
  AFTER_START+=(helm_wait_build)
}
