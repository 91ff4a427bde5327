# shellcheck shell=bash
# wrk (Debian package): the HTTP load generator `npm run bench -- --node-red` runs beside autocannon. Benchmarks only,
# so not a default service: `bash scripts/services wrk` (the bench calls it when wrk is missing). ~1 s from apt.
service_wrk() {
  apt_install wrk
  log "wrk ready ($(command -v wrk))"
}
