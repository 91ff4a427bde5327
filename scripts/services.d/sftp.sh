# shellcheck shell=bash
# OpenSSH (Debian's sshd) as an SFTP-only server on 127.0.0.1:2222, started directly with its own sshd_config, host
# key and data under /var/lib/flowcrew-sftp: user flowcrew-sftp with password flowcrew-sftp and an ed25519 key
# (private key at /var/lib/flowcrew-sftp/client_ed25519, for the tests), home /var/lib/flowcrew-sftp/home,
# internal-sftp only (no shell). The files pack's SFTP tests. Sourced by scripts/services.
DEFAULT_SERVICES+=(sftp)
SFTP_PORT="${FLOWCREW_SFTP_PORT:-2222}"
SFTP_DATA=/var/lib/flowcrew-sftp
SFTP_USER=flowcrew-sftp

service_sftp() {
  apt_install openssh-server openssh-sftp-server
  if sshd_up "$SFTP_PORT"; then
    log "sftp (sshd) already running on 127.0.0.1:$SFTP_PORT"
    return 0
  fi
  log "starting sshd (sftp only) on 127.0.0.1:$SFTP_PORT"
  sshd_account "$SFTP_DATA" "$SFTP_USER" /usr/sbin/nologin
  echo "$SFTP_USER:$SFTP_USER" | as_root chpasswd
  # ssh-server.sh: keys, the shared sshd_config settings, start and wait.
  sshd_start sftp "$SFTP_PORT" "$SFTP_DATA" "$SFTP_USER" \
    'PasswordAuthentication yes' 'Subsystem sftp internal-sftp' 'ForceCommand internal-sftp' 'MaxSessions 64'
}
