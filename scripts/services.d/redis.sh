# shellcheck shell=bash
# Redis 7 (Debian's redis-server) on 127.0.0.1:6379 without persistence: the Redis connector's tests, BullMQ queue
# mode and the Socket.IO adapter. Sourced by scripts/services.
DEFAULT_SERVICES+=(redis)
REDIS_PORT="${FLOWCREW_REDIS_PORT:-6379}"
# Test files that run side by side each take a database of their own (runtime/src/testing/redis-databases.ts): more
# than Redis' default 16.
REDIS_DATABASES=32

service_redis() {
  apt_install redis-server
  if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    local databases
    databases="$(redis-cli -p "$REDIS_PORT" config get databases | tail -1)"
    if [ "${databases:-0}" -ge "$REDIS_DATABASES" ]; then
      log "redis already running on 127.0.0.1:$REDIS_PORT"
      return 0
    fi
    # Started elsewhere (e.g. by the package) with too few databases, which is fixed at start: restart it ours.
    log "redis on 127.0.0.1:$REDIS_PORT has $databases databases, restarting it with $REDIS_DATABASES"
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.5
  fi
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  as_root install -d -m 755 /var/lib/flowcrew-redis
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --databases "$REDIS_DATABASES" \
    --dir /var/lib/flowcrew-redis --logfile /tmp/flowcrew-redis.log || die "could not start redis-server"
  local i
  for i in $(seq 1 40); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && { log "redis ready"; return 0; }
    sleep 0.25
  done
  die "redis did not answer PING within 10 s (see /tmp/flowcrew-redis.log)"
}
