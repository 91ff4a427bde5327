# shellcheck shell=bash
# NATS (Debian's nats-server 2.9) on 127.0.0.1:4222 with JetStream on (store under /var/lib/flowcrew-nats), user
# flowcrew/flowcrew, monitoring on 127.0.0.1:8222 (the tests count connections there). Sourced by scripts/services.
DEFAULT_SERVICES+=(nats)
NATS_PORT="${FLOWCREW_NATS_PORT:-4222}"
NATS_DATA=/var/lib/flowcrew-nats

nats_up() { (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; }

service_nats() {
  apt_install nats-server
  if nats_up; then
    log "nats already running on 127.0.0.1:$NATS_PORT"
    return 0
  fi
  log "starting nats-server (JetStream) on 127.0.0.1:$NATS_PORT"
  as_root install -d -m 750 "$NATS_DATA"
  as_root tee "$NATS_DATA/nats.conf" >/dev/null <<CONF
listen: 127.0.0.1:$NATS_PORT
http: 127.0.0.1:$((NATS_PORT + 4000))
jetstream { store_dir: "$NATS_DATA/jetstream", max_memory_store: 256MB, max_file_store: 2GB }
authorization { user: flowcrew, password: flowcrew }
CONF
  # setsid: the server outlives this script.
  as_root setsid nats-server -c "$NATS_DATA/nats.conf" -l "$NATS_DATA/nats.log" >/dev/null 2>&1 </dev/null &
  local i
  for i in $(seq 1 40); do
    nats_up && { log "nats ready"; return 0; }
    sleep 0.25
  done
  die "nats-server did not listen on 127.0.0.1:$NATS_PORT within 10 s (see $NATS_DATA/nats.log)"
}
