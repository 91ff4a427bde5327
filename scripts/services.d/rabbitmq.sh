# shellcheck shell=bash
# RabbitMQ (Debian's rabbitmq-server 3.10) on 127.0.0.1:5672, started directly (no systemd) as the rabbitmq user
# with its data under /var/lib/flowcrew-rabbitmq: the message-queue pack's tests and benchmark. A user
# flowcrew/flowcrew (administrator) besides the loopback-only guest. Sourced by scripts/services.
DEFAULT_SERVICES+=(rabbitmq)
RABBITMQ_PORT="${FLOWCREW_RABBITMQ_PORT:-5672}"
RABBITMQ_DATA=/var/lib/flowcrew-rabbitmq

# The same environment for the server and rabbitmqctl (node name, data and log directories).
rabbitmq_env() {
  as_root runuser -u rabbitmq -- env HOME=/var/lib/rabbitmq RABBITMQ_NODENAME=flowcrew@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT="$RABBITMQ_PORT" RABBITMQ_DIST_PORT=$((RABBITMQ_PORT + 20000)) \
    RABBITMQ_MNESIA_BASE="$RABBITMQ_DATA/mnesia" RABBITMQ_LOG_BASE="$RABBITMQ_DATA/log" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$RABBITMQ_DATA/enabled_plugins" RABBITMQ_PID_FILE="$RABBITMQ_DATA/rabbit.pid" \
    ERL_EPMD_ADDRESS=127.0.0.1 "$@"
}

service_rabbitmq() {
  apt_install rabbitmq-server
  if rabbitmq_env /usr/lib/rabbitmq/bin/rabbitmqctl -q status >/dev/null 2>&1; then
    log "rabbitmq already running on 127.0.0.1:$RABBITMQ_PORT"
  else
    log "starting rabbitmq on 127.0.0.1:$RABBITMQ_PORT"
    as_root install -d -o rabbitmq -g rabbitmq -m 750 "$RABBITMQ_DATA" "$RABBITMQ_DATA/log"
    [ -f "$RABBITMQ_DATA/enabled_plugins" ] || as_root install -o rabbitmq -g rabbitmq -m 640 /dev/stdin "$RABBITMQ_DATA/enabled_plugins" <<<'[].'
    # setsid: the broker outlives this script; its own log is under $RABBITMQ_DATA/log.
    rabbitmq_env setsid /usr/lib/rabbitmq/bin/rabbitmq-server >/tmp/flowcrew-rabbitmq.log 2>&1 </dev/null &
    # await_startup fails at once while the Erlang node is not registered yet: ask again until it answers.
    local i
    for i in $(seq 1 60); do
      rabbitmq_env /usr/lib/rabbitmq/bin/rabbitmqctl -q --timeout 10 await_startup >/dev/null 2>&1 && break
      [ "$i" -eq 60 ] && die "rabbitmq did not start within 60 s (see /tmp/flowcrew-rabbitmq.log and $RABBITMQ_DATA/log)"
      sleep 1
    done
    log "rabbitmq ready"
  fi
  if ! rabbitmq_env /usr/lib/rabbitmq/bin/rabbitmqctl -q list_users 2>/dev/null | grep -q '^flowcrew\b'; then
    rabbitmq_env /usr/lib/rabbitmq/bin/rabbitmqctl -q add_user flowcrew flowcrew >/dev/null
    rabbitmq_env /usr/lib/rabbitmq/bin/rabbitmqctl -q set_user_tags flowcrew administrator >/dev/null
    rabbitmq_env /usr/lib/rabbitmq/bin/rabbitmqctl -q set_permissions -p / flowcrew '.*' '.*' '.*' >/dev/null
  fi
}
