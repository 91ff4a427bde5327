# shellcheck shell=bash
# An S3-compatible server for the files pack's S3 tests: Versity S3 Gateway (Apache-2.0, github.com/versity/versitygw)
# with its posix backend, built from the Go module proxy with the machine's Go toolchain (no prebuilt download), on
# 127.0.0.1:7070, root keys flowcrew / flowcrew-s3-secret, buckets as directories under /var/lib/flowcrew-s3/data.
# The build (minutes on a fresh machine without a Go cache) runs in the background and is waited for after the
# other services (AFTER_START); later runs reuse the binary. Sourced by scripts/services.
DEFAULT_SERVICES+=(s3)
S3_PORT="${FLOWCREW_S3_PORT:-7070}"
S3_DIR=/var/lib/flowcrew-s3
S3_VERSITYGW_VERSION=v1.8.0
S3_BIN="$S3_DIR/bin/versitygw-$S3_VERSITYGW_VERSION"

s3_up() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$S3_PORT/" 2>/dev/null; }

s3_start() {
  log "starting versitygw (posix backend) on 127.0.0.1:$S3_PORT"
  as_root install -d -m 755 "$S3_DIR/data"
  # setsid: the server outlives this script (npm test runs vitest after it).
  ROOT_ACCESS_KEY_ID=flowcrew ROOT_SECRET_ACCESS_KEY=flowcrew-s3-secret \
    setsid "$S3_BIN" --port "127.0.0.1:$S3_PORT" --quiet --keep-alive posix "$S3_DIR/data" </dev/null >"$S3_DIR/versitygw.log" 2>&1 &
  echo $! >"$S3_DIR/versitygw.pid"
  local i
  for i in $(seq 1 80); do
    s3_up && { log "s3 ready"; return 0; }
    sleep 0.25
  done
  die "versitygw did not answer on 127.0.0.1:$S3_PORT within 20 s (see $S3_DIR/versitygw.log)"
}

s3_wait_build() {
  local pid
  pid="$(cat "$S3_DIR/build.pid" 2>/dev/null)"
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    log "waiting for the versitygw build (log: $S3_DIR/build.log)"
    while kill -0 "$pid" 2>/dev/null; do sleep 2; done
  fi
  [ -x "$S3_BIN" ] || die "versitygw build failed (see $S3_DIR/build.log)"
  log "versitygw built: $(tail -n 3 "$S3_DIR/build.log" | tr '\n' ' ')"
  s3_start
}

service_s3() {
  if s3_up; then
    log "s3 (versitygw) already running on 127.0.0.1:$S3_PORT"
    return 0
  fi
  as_root install -d -m 755 "$S3_DIR" "$S3_DIR/bin"
  if [ -x "$S3_BIN" ]; then
    s3_start
    return 0
  fi
  s3_start_build
  AFTER_START+=(s3_wait_build)
}

s3_building() { local pid; pid="$(cat "$S3_DIR/build.pid" 2>/dev/null)"; [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

# Starts the build in the background unless one (e.g. started by .ci/run before npm ci) is running already.
s3_start_build() {
  if s3_building; then
    log "versitygw is being built by another run (log: $S3_DIR/build.log)"
    return 0
  fi
  command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || die "the S3 test server is built with Go, which is not installed"
  local go_cmd
  go_cmd="$(command -v go || echo /usr/local/go/bin/go)"
  log "building versitygw $S3_VERSITYGW_VERSION from the Go module proxy in the background (log: $S3_DIR/build.log)"
  (
    start=$(date +%s)
    GOBIN="$S3_DIR/bin/build" GOFLAGS=-mod=mod "$go_cmd" install "github.com/versity/versitygw/cmd/versitygw@$S3_VERSITYGW_VERSION" &&
      mv "$S3_DIR/bin/build/versitygw" "$S3_BIN" &&
      echo "build took $(($(date +%s) - start)) s"
  ) >"$S3_DIR/build.log" 2>&1 &
  echo $! >"$S3_DIR/build.pid"
}

# `scripts/services s3_build`: only start the build (CI starts it early), nothing to wait for.
service_s3_build() {
  as_root install -d -m 755 "$S3_DIR" "$S3_DIR/bin"
  if [ -x "$S3_BIN" ]; then log "versitygw $S3_VERSITYGW_VERSION already built"; return 0; fi
  s3_start_build
}
