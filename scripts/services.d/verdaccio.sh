# shellcheck shell=bash
# Verdaccio 6.8.0 (the last 6.x that runs on Node 20) on 127.0.0.1:4873: a real local npm registry the palette
# manager's end-to-end test publishes sample node packs to and installs them from. Installed with npm into
# .cache/verdaccio (in the background, waited for in AFTER_START); its packages live in .cache/verdaccio/storage.
# `flowcrew-*` and `@flowcrew/*` packages are served only from this registry (never proxied, so a public package of
# the same name cannot shadow a test pack); everything else is proxied from registry.npmjs.org (a pack's own
# dependencies). Anyone may add a user (the test signs up its own); publishing needs a signed-in user.
DEFAULT_SERVICES+=(verdaccio)
VERDACCIO_VERSION="${FLOWCREW_VERDACCIO_VERSION:-6.8.0}"
VERDACCIO_PORT="${FLOWCREW_VERDACCIO_PORT:-4873}"
VERDACCIO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.cache/verdaccio"

verdaccio_up() { curl -fsS -o /dev/null "http://127.0.0.1:$VERDACCIO_PORT/-/ping" 2>/dev/null; }

service_verdaccio() {
  if verdaccio_up; then
    log "verdaccio already running on 127.0.0.1:$VERDACCIO_PORT"
    return 0
  fi
  mkdir -p "$VERDACCIO_DIR/storage"
  cat >"$VERDACCIO_DIR/config.yaml" <<YAML
storage: $VERDACCIO_DIR/storage
auth:
  htpasswd:
    file: $VERDACCIO_DIR/htpasswd
    max_users: 10000
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
packages:
  '@flowcrew/*':
    access: \$all
    publish: \$authenticated
    unpublish: \$authenticated
  'flowcrew-*':
    access: \$all
    publish: \$authenticated
    unpublish: \$authenticated
  '**':
    access: \$all
    publish: \$authenticated
    proxy: npmjs
server:
  keepAliveTimeout: 60
listen: 127.0.0.1:$VERDACCIO_PORT
log: { type: file, path: $VERDACCIO_DIR/verdaccio.log, format: pretty, level: warn }
YAML
  if [ "$(cat "$VERDACCIO_DIR/version" 2>/dev/null)" = "$VERDACCIO_VERSION" ] && [ -x "$VERDACCIO_DIR/node_modules/.bin/verdaccio" ]; then
    log "verdaccio $VERDACCIO_VERSION already installed"
    VERDACCIO_INSTALL_PID=
  else
    log "installing verdaccio $VERDACCIO_VERSION into $VERDACCIO_DIR in the background (log: $VERDACCIO_DIR/install.log)"
    (
      set -e
      start=$(date +%s)
      cd "$VERDACCIO_DIR"
      [ -f package.json ] || echo '{ "name": "flowcrew-verdaccio", "private": true }' >package.json
      npm install --no-audit --no-fund --omit=dev "verdaccio@$VERDACCIO_VERSION"
      echo "$VERDACCIO_VERSION" >version
      echo "installed in $(($(date +%s) - start)) s"
    ) >"$VERDACCIO_DIR/install.log" 2>&1 &
    VERDACCIO_INSTALL_PID=$!
  fi
  AFTER_START+=(verdaccio_wait)
}

verdaccio_wait() {
  if [ -n "${VERDACCIO_INSTALL_PID:-}" ]; then
    wait "$VERDACCIO_INSTALL_PID" || die "installing verdaccio failed; last lines of $VERDACCIO_DIR/install.log: $(tail -n 20 "$VERDACCIO_DIR/install.log")"
    log "verdaccio $(tail -n 1 "$VERDACCIO_DIR/install.log")"
  fi
  log "starting verdaccio on 127.0.0.1:$VERDACCIO_PORT (log: $VERDACCIO_DIR/verdaccio.log)"
  nohup "$VERDACCIO_DIR/node_modules/.bin/verdaccio" --config "$VERDACCIO_DIR/config.yaml" >"$VERDACCIO_DIR/stdout.log" 2>&1 &
  local i
  for i in $(seq 1 120); do
    verdaccio_up && { log "verdaccio ready"; return 0; }
    sleep 0.5
  done
  die "verdaccio did not answer /-/ping within 60 s (see $VERDACCIO_DIR/stdout.log)"
}
