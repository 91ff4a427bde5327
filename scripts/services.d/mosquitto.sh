# shellcheck shell=bash
# Mosquitto 2 (Debian's) on 127.0.0.1:1883, started directly as a daemon, password authentication (user
# flowcrew/flowcrew), persistence under /var/lib/flowcrew-mosquitto (QoS 1/2 sessions survive a broker restart).
# The message-queue pack's MQTT tests. Sourced by scripts/services.
DEFAULT_SERVICES+=(mosquitto)
MOSQUITTO_PORT="${FLOWCREW_MOSQUITTO_PORT:-1883}"
MOSQUITTO_DATA=/var/lib/flowcrew-mosquitto

mosquitto_up() { (exec 3<>"/dev/tcp/127.0.0.1/$MOSQUITTO_PORT") 2>/dev/null; }

service_mosquitto() {
  apt_install mosquitto
  if mosquitto_up; then
    log "mosquitto already running on 127.0.0.1:$MOSQUITTO_PORT"
    return 0
  fi
  log "starting mosquitto on 127.0.0.1:$MOSQUITTO_PORT"
  as_root install -d -o mosquitto -g mosquitto -m 750 "$MOSQUITTO_DATA"
  as_root touch "$MOSQUITTO_DATA/passwd"
  as_root mosquitto_passwd -b "$MOSQUITTO_DATA/passwd" flowcrew flowcrew
  as_root chown mosquitto:mosquitto "$MOSQUITTO_DATA/passwd"
  as_root chmod 600 "$MOSQUITTO_DATA/passwd"
  as_root tee "$MOSQUITTO_DATA/mosquitto.conf" >/dev/null <<CONF
listener $MOSQUITTO_PORT 127.0.0.1
allow_anonymous false
password_file $MOSQUITTO_DATA/passwd
persistence true
persistence_location $MOSQUITTO_DATA/
log_dest file $MOSQUITTO_DATA/mosquitto.log
pid_file $MOSQUITTO_DATA/mosquitto.pid
max_queued_messages 100000
user mosquitto
CONF
  as_root mosquitto -c "$MOSQUITTO_DATA/mosquitto.conf" -d || die "could not start mosquitto (see $MOSQUITTO_DATA/mosquitto.log)"
  local i
  for i in $(seq 1 40); do
    mosquitto_up && { log "mosquitto ready"; return 0; }
    sleep 0.25
  done
  die "mosquitto did not listen on 127.0.0.1:$MOSQUITTO_PORT within 10 s (see $MOSQUITTO_DATA/mosquitto.log)"
}
