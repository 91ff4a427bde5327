# shellcheck shell=bash
# Redis 7 (Debian's redis-server) on 127.0.0.1:6379 without persistence: the Redis connector's tests, BullMQ queue
# mode and the Socket.IO adapter. Sourced by scripts/services.
DEFAULT_SERVICES+=(redis)
REDIS_PORT="${FLOWCREW_REDIS_PORT:-6379}"

service_redis() {
  apt_install redis-server
  if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    log "redis already running on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  as_root install -d -m 755 /var/lib/flowcrew-redis
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --dir /var/lib/flowcrew-redis --logfile /tmp/flowcrew-redis.log || die "could not start redis-server"
  local i
  for i in $(seq 1 40); do
    redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && { log "redis ready"; return 0; }
    sleep 0.25
  done
  die "redis did not answer PING within 10 s (see /tmp/flowcrew-redis.log)"
}
