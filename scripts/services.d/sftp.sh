# shellcheck shell=bash
# OpenSSH (Debian's sshd) as an SFTP-only server on 127.0.0.1:2222, started directly with its own sshd_config, host
# key and data under /var/lib/flowcrew-sftp: user flowcrew-sftp with password flowcrew-sftp and an ed25519 key
# (private key at /var/lib/flowcrew-sftp/client_ed25519, for the tests), home /var/lib/flowcrew-sftp/home,
# internal-sftp only (no shell). The files pack's SFTP tests. Sourced by scripts/services.
DEFAULT_SERVICES+=(sftp)
SFTP_PORT="${FLOWCREW_SFTP_PORT:-2222}"
SFTP_DATA=/var/lib/flowcrew-sftp
SFTP_USER=flowcrew-sftp

sftp_up() { (exec 3<>"/dev/tcp/127.0.0.1/$SFTP_PORT") 2>/dev/null; }

service_sftp() {
  apt_install openssh-server openssh-sftp-server
  if sftp_up; then
    log "sftp (sshd) already running on 127.0.0.1:$SFTP_PORT"
    return 0
  fi
  log "starting sshd (sftp only) on 127.0.0.1:$SFTP_PORT"
  as_root install -d -m 755 "$SFTP_DATA" /run/sshd
  if ! id "$SFTP_USER" >/dev/null 2>&1; then
    as_root useradd --system --home-dir "$SFTP_DATA/home" --shell /usr/sbin/nologin "$SFTP_USER"
  fi
  echo "$SFTP_USER:$SFTP_USER" | as_root chpasswd
  as_root install -d -m 755 -o "$SFTP_USER" -g "$SFTP_USER" "$SFTP_DATA/home"
  [ -f "$SFTP_DATA/host_ed25519" ] || as_root ssh-keygen -q -t ed25519 -N '' -C flowcrew-sftp-host -f "$SFTP_DATA/host_ed25519"
  [ -f "$SFTP_DATA/client_ed25519" ] || as_root ssh-keygen -q -t ed25519 -N '' -C flowcrew-sftp-client -f "$SFTP_DATA/client_ed25519"
  as_root install -d -m 755 "$SFTP_DATA/keys"
  as_root install -m 644 "$SFTP_DATA/client_ed25519.pub" "$SFTP_DATA/keys/authorized_keys"
  as_root tee "$SFTP_DATA/sshd_config" >/dev/null <<CONF
Port $SFTP_PORT
ListenAddress 127.0.0.1
HostKey $SFTP_DATA/host_ed25519
PidFile $SFTP_DATA/sshd.pid
UsePAM no
PermitRootLogin no
AllowUsers $SFTP_USER
PasswordAuthentication yes
PubkeyAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile $SFTP_DATA/keys/authorized_keys
StrictModes no
Subsystem sftp internal-sftp
ForceCommand internal-sftp
AllowTcpForwarding no
X11Forwarding no
MaxSessions 64
MaxStartups 64:30:128
LogLevel INFO
CONF
  as_root /usr/sbin/sshd -t -f "$SFTP_DATA/sshd_config" || die "sshd rejected $SFTP_DATA/sshd_config"
  as_root /usr/sbin/sshd -f "$SFTP_DATA/sshd_config" -E "$SFTP_DATA/sshd.log" || die "could not start sshd (see $SFTP_DATA/sshd.log)"
  local i
  for i in $(seq 1 40); do
    sftp_up && { log "sftp ready"; return 0; }
    sleep 0.25
  done
  die "sshd did not listen on 127.0.0.1:$SFTP_PORT within 10 s (see $SFTP_DATA/sshd.log)"
}
