# shellcheck shell=bash
# An S3-compatible server for the files pack's S3 tests: Versity S3 Gateway (Apache-2.0, github.com/versity/versitygw)
# with its posix backend, built from the Go module proxy with the machine's Go toolchain (no prebuilt download), on
# 127.0.0.1:7070, root keys flowcrew / flowcrew-s3-secret, buckets as directories under /var/lib/flowcrew-s3/data.
# The build (minutes on a fresh machine without a Go cache) runs in the background (background_build in
# scripts/services; required: a failed build is an error) and is waited for after the other services (AFTER_START),
# which then starts the server; later runs reuse the binary. Sourced by scripts/services.
DEFAULT_SERVICES+=(s3)
S3_PORT="${FLOWCREW_S3_PORT:-7070}"
S3_DIR="${FLOWCREW_S3_DIR:-/var/lib/flowcrew-s3}"
S3_VERSITYGW_VERSION=v1.8.0
S3_BIN="$S3_DIR/bin/versitygw-$S3_VERSITYGW_VERSION"
background_build s3 required "versitygw $S3_VERSITYGW_VERSION" "$S3_DIR" "$S3_BIN"

s3_up() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$S3_PORT/" 2>/dev/null; }

s3_start() {
  log "starting versitygw (posix backend) on 127.0.0.1:$S3_PORT"
  as_root install -d -m 755 "$S3_DIR/data"
  # setsid: the server outlives this script (npm test runs vitest after it).
  ROOT_ACCESS_KEY_ID=flowcrew ROOT_SECRET_ACCESS_KEY=flowcrew-s3-secret \
    setsid "$S3_BIN" --port "127.0.0.1:$S3_PORT" --quiet --keep-alive posix "$S3_DIR/data" </dev/null >"$S3_DIR/versitygw.log" 2>&1 &
  echo $! >"$S3_DIR/versitygw.pid"
  for _ in $(seq 1 80); do
    s3_up && { log "s3 ready"; return 0; }
    sleep 0.25
  done
  die "versitygw did not answer on 127.0.0.1:$S3_PORT within 20 s (see $S3_DIR/versitygw.log)"
}

s3_build() {
  local start
  start=$(date +%s)
  export GOBIN="$S3_DIR/bin/build" GOFLAGS=-mod=mod
  build_step "$GO" install "github.com/versity/versitygw/cmd/versitygw@$S3_VERSITYGW_VERSION" || return 1
  mv "$GOBIN/versitygw" "$S3_BIN" || return 1
  echo "build took $(($(date +%s) - start)) s"
}

# `scripts/services s3_build`: only start the build (.ci/run starts it early), nothing to wait for.
service_s3_build() {
  as_root install -d -m 755 "$S3_DIR"
  build_start s3
}

s3_wait_build() {
  build_wait s3
  s3_start
}

service_s3() {
  if s3_up; then
    log "s3 (versitygw) already running on 127.0.0.1:$S3_PORT"
    return 0
  fi
  service_s3_build
  AFTER_START+=(s3_wait_build)
}
