# shellcheck shell=bash
# MariaDB (Debian's mariadb-server) on 127.0.0.1:3306 for the MySQL/MariaDB connector's tests: a datadir of its own
# under /var/lib/flowcrew-mariadb, started with mariadbd-safe directly (no systemd here), user flowcrew/flowcrew
# with database flowcrew_test (and the right to create more: tests make their own). Sourced by scripts/services.
DEFAULT_SERVICES+=(mariadb)
MARIADB_PORT="${FLOWCREW_MARIADB_PORT:-3306}"
MARIADB_DIR=/var/lib/flowcrew-mariadb
MARIADB_SOCKET="$MARIADB_DIR/mariadb.sock"

mariadb_root() { mariadb --no-defaults -uroot -S "$MARIADB_SOCKET" "$@"; }

service_mariadb() {
  # The package's postinst would start its own server via init scripts; there is no systemd and we start ours.
  local guard=0
  if ! command -v mariadbd >/dev/null 2>&1 && [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod 755 /usr/sbin/policy-rc.d
    guard=1
  fi
  (apt_install mariadb-server mariadb-client) || { [ "$guard" -eq 1 ] && as_root rm -f /usr/sbin/policy-rc.d; die "installing mariadb-server failed"; }
  [ "$guard" -eq 1 ] && as_root rm -f /usr/sbin/policy-rc.d

  if mariadb_root -e 'SELECT 1' >/dev/null 2>&1; then
    log "mariadb already running on 127.0.0.1:$MARIADB_PORT"
  else
    if [ ! -d "$MARIADB_DIR/data/mysql" ]; then
      log "initialising mariadb datadir $MARIADB_DIR/data"
      as_root install -d -m 750 -o mysql -g mysql "$MARIADB_DIR" "$MARIADB_DIR/data"
      as_root mariadb-install-db --no-defaults --user=mysql --datadir="$MARIADB_DIR/data" \
        --auth-root-authentication-method=socket --skip-test-db >"$MARIADB_DIR/install.log" 2>&1 ||
        die "mariadb-install-db failed (see $MARIADB_DIR/install.log)"
    fi
    log "starting mariadb on 127.0.0.1:$MARIADB_PORT"
    # --no-defaults: none of /etc/mysql's settings (its socket and datadir are the package's, not ours).
    # setsid: the server outlives this script. Small buffers: the machine is shared.
    as_root setsid mariadbd-safe --no-defaults --user=mysql --datadir="$MARIADB_DIR/data" --socket="$MARIADB_SOCKET" \
      --pid-file="$MARIADB_DIR/mariadb.pid" --log-error="$MARIADB_DIR/error.log" --bind-address=127.0.0.1 \
      --port="$MARIADB_PORT" --innodb-buffer-pool-size=128M --max-connections=300 --skip-name-resolve \
      </dev/null >/dev/null 2>&1 &
    local i
    for i in $(seq 1 60); do
      mariadb_root -e 'SELECT 1' >/dev/null 2>&1 && break
      [ "$i" -eq 60 ] && die "mariadb did not answer within 30 s (see $MARIADB_DIR/error.log)"
      sleep 0.5
    done
  fi
  mariadb_root -e "CREATE USER IF NOT EXISTS 'flowcrew'@'127.0.0.1' IDENTIFIED BY 'flowcrew';
    CREATE USER IF NOT EXISTS 'flowcrew'@'localhost' IDENTIFIED BY 'flowcrew';
    GRANT ALL PRIVILEGES ON *.* TO 'flowcrew'@'127.0.0.1' WITH GRANT OPTION;
    GRANT ALL PRIVILEGES ON *.* TO 'flowcrew'@'localhost' WITH GRANT OPTION;
    CREATE DATABASE IF NOT EXISTS flowcrew_test;" || die "could not create the flowcrew user and database in mariadb"
  mariadb --no-defaults -h 127.0.0.1 -P "$MARIADB_PORT" -uflowcrew -pflowcrew flowcrew_test -e 'SELECT 1' >/dev/null ||
    die "cannot log in to mariadb as flowcrew over TCP"
  log "mariadb ready: mysql://flowcrew:***@127.0.0.1:$MARIADB_PORT/flowcrew_test"
}
