# shellcheck shell=bash
# Mosquitto 2 (Debian's) on 127.0.0.1:1883, started directly as a daemon, password authentication (user
# flowcrew/flowcrew), persistence under /var/lib/flowcrew-mosquitto (QoS 1/2 sessions survive a broker restart).
# A TLS listener on 127.0.0.1:8883 with a certificate for localhost/127.0.0.1 signed by a CA made here with openssl
# (ca.pem readable by the tests under $MOSQUITTO_DATA/tls; made once, kept). The message-queue pack's MQTT tests.
# Sourced by scripts/services.
DEFAULT_SERVICES+=(mosquitto)
MOSQUITTO_PORT="${FLOWCREW_MOSQUITTO_PORT:-1883}"
MOSQUITTO_TLS_PORT="${FLOWCREW_MOSQUITTO_TLS_PORT:-8883}"
MOSQUITTO_DATA=/var/lib/flowcrew-mosquitto

mosquitto_up() { (exec 3<>"/dev/tcp/127.0.0.1/$MOSQUITTO_PORT") 2>/dev/null; }
mosquitto_tls_up() { (exec 3<>"/dev/tcp/127.0.0.1/$MOSQUITTO_TLS_PORT") 2>/dev/null; }

# A test CA and a server certificate it signs (SAN localhost and 127.0.0.1), valid 10 years. Idempotent.
mosquitto_certificates() {
  local dir="$MOSQUITTO_DATA/tls"
  [ -s "$dir/server.pem" ] && return 0
  as_root install -d -m 755 "$dir"
  as_root openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=Flowcrew test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null || die "openssl could not make the test CA"
  as_root openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' | as_root tee "$dir/san.ext" >/dev/null
  as_root openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -CAcreateserial -days 3650 \
    -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null || die "openssl could not sign the server certificate"
  as_root chmod 644 "$dir/ca.pem" "$dir/server.pem"
  as_root chmod 600 "$dir/ca.key"
  as_root chown mosquitto:mosquitto "$dir/server.key"
  as_root chmod 600 "$dir/server.key"
}

service_mosquitto() {
  apt_install mosquitto
  if mosquitto_up && mosquitto_tls_up; then
    log "mosquitto already running on 127.0.0.1:$MOSQUITTO_PORT and :$MOSQUITTO_TLS_PORT (TLS)"
    return 0
  fi
  if mosquitto_up && [ -s "$MOSQUITTO_DATA/mosquitto.pid" ]; then
    # Started by an earlier version of this script without the TLS listener: restart it with one.
    log "restarting mosquitto to add its TLS listener"
    as_root kill "$(cat "$MOSQUITTO_DATA/mosquitto.pid")" || true
    local w
    for w in $(seq 1 40); do mosquitto_up || break; sleep 0.25; done
  fi
  log "starting mosquitto on 127.0.0.1:$MOSQUITTO_PORT and :$MOSQUITTO_TLS_PORT (TLS)"
  as_root install -d -o mosquitto -g mosquitto -m 755 "$MOSQUITTO_DATA"
  mosquitto_certificates
  as_root touch "$MOSQUITTO_DATA/passwd"
  as_root mosquitto_passwd -b "$MOSQUITTO_DATA/passwd" flowcrew flowcrew
  as_root chown mosquitto:mosquitto "$MOSQUITTO_DATA/passwd"
  as_root chmod 600 "$MOSQUITTO_DATA/passwd"
  as_root tee "$MOSQUITTO_DATA/mosquitto.conf" >/dev/null <<CONF
per_listener_settings false
allow_anonymous false
password_file $MOSQUITTO_DATA/passwd
listener $MOSQUITTO_PORT 127.0.0.1
listener $MOSQUITTO_TLS_PORT 127.0.0.1
cafile $MOSQUITTO_DATA/tls/ca.pem
certfile $MOSQUITTO_DATA/tls/server.pem
keyfile $MOSQUITTO_DATA/tls/server.key
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
    mosquitto_up && mosquitto_tls_up && { log "mosquitto ready"; return 0; }
    sleep 0.25
  done
  die "mosquitto did not listen on 127.0.0.1:$MOSQUITTO_PORT within 10 s (see $MOSQUITTO_DATA/mosquitto.log)"
}
