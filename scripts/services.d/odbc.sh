# shellcheck shell=bash
# unixODBC with Debian's PostgreSQL and MariaDB ODBC drivers, registered in /etc/odbcinst.ini as "PostgreSQL Unicode"
# and "MariaDB Unicode", for the ODBC connector's tests against the PostgreSQL and MariaDB services. Not a server:
# nothing to start. unixodbc-dev is there for the odbc npm package's native build.
DEFAULT_SERVICES+=(odbc)

service_odbc() {
  apt_install unixodbc unixodbc-dev odbc-postgresql odbc-mariadb
  local lib
  if ! odbcinst -q -d -n "PostgreSQL Unicode" >/dev/null 2>&1; then
    lib="$(dpkg -L odbc-postgresql | grep -m1 '/psqlodbcw\.so$')" || die "psqlodbcw.so not found in odbc-postgresql"
    printf '[PostgreSQL Unicode]\nDescription=PostgreSQL ODBC driver (Unicode)\nDriver=%s\n' "$lib" >/tmp/flowcrew-odbc-pg.ini
    as_root odbcinst -i -d -f /tmp/flowcrew-odbc-pg.ini >/dev/null || die "could not register the PostgreSQL ODBC driver"
  fi
  if ! odbcinst -q -d -n "MariaDB Unicode" >/dev/null 2>&1; then
    lib="$(dpkg -L odbc-mariadb | grep -m1 '/libmaodbc\.so$')" || die "libmaodbc.so not found in odbc-mariadb"
    printf '[MariaDB Unicode]\nDescription=MariaDB Connector/ODBC\nDriver=%s\n' "$lib" >/tmp/flowcrew-odbc-maria.ini
    as_root odbcinst -i -d -f /tmp/flowcrew-odbc-maria.ini >/dev/null || die "could not register the MariaDB ODBC driver"
  fi
  log "odbc ready: drivers $(odbcinst -q -d | tr '\n' ' ')"
}
