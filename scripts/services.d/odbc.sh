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
  odbc_npm_binding
  log "odbc ready: drivers $(odbcinst -q -d | tr '\n' ' ')"
}

# The odbc npm package is an optional dependency of nodes/db: on a fresh machine `npm ci` runs before this script,
# without unixODBC's headers, so its native build fails and npm leaves it out. Build it now that they are here.
odbc_npm_binding() {
  local root version
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  (cd "$root" && node -e "require('odbc')" >/dev/null 2>&1) && return 0
  version="$(cd "$root" && node -p "require('./package-lock.json').packages['node_modules/odbc']?.version ?? ''")"
  [ -n "$version" ] || die "odbc is not in package-lock.json"
  log "building the odbc npm package $version against unixODBC"
  if [ -d "$root/node_modules/odbc" ]; then
    (cd "$root" && flock /tmp/npm.lock npm rebuild odbc --foreground-scripts >/tmp/flowcrew-odbc-build.log 2>&1) || die "npm rebuild odbc failed (see /tmp/flowcrew-odbc-build.log)"
  else
    (cd "$root" && flock /tmp/npm.lock npm install --no-save --no-audit --no-fund -w nodes/db "odbc@$version" >/tmp/flowcrew-odbc-build.log 2>&1) || die "npm install odbc failed (see /tmp/flowcrew-odbc-build.log)"
  fi
  (cd "$root" && node -e "require('odbc')") || die "the odbc package still does not load (see /tmp/flowcrew-odbc-build.log)"
}
