# shellcheck shell=bash
# No service of its own: the OpenSSH server set-up shared by git.sh and sftp.sh (each runs Debian's sshd directly,
# with its own port, sshd_config, host key, client key and data directory). Sourced by scripts/services.

sshd_up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; } # $1 = port

# sshd_account <data dir> <user> <login shell>: the system user whose home is <data dir>/home.
sshd_account() {
  local data=$1 user=$2 shell=$3
  as_root install -d -m 755 "$data" /run/sshd
  if ! id "$user" >/dev/null 2>&1; then
    as_root useradd --system --home-dir "$data/home" --shell "$shell" "$user"
  fi
  as_root install -d -m 755 -o "$user" -g "$user" "$data/home"
}

# sshd_start <name> <port> <data dir> <user> [sshd_config lines...]: host and client ed25519 keys (kept across runs;
# the client's private key is <data dir>/client_ed25519, for the tests), an sshd_config with the settings both servers
# share plus the given lines, then sshd started and waited for (10 s).
sshd_start() {
  local name=$1 port=$2 data=$3 user=$4 i
  shift 4
  [ -f "$data/host_ed25519" ] || as_root ssh-keygen -q -t ed25519 -N '' -C "flowcrew-$name-host" -f "$data/host_ed25519"
  [ -f "$data/client_ed25519" ] || as_root ssh-keygen -q -t ed25519 -N '' -C "flowcrew-$name-client" -f "$data/client_ed25519"
  as_root install -d -m 755 "$data/keys"
  as_root install -m 644 "$data/client_ed25519.pub" "$data/keys/authorized_keys"
  {
    cat <<CONF
Port $port
ListenAddress 127.0.0.1
HostKey $data/host_ed25519
PidFile $data/sshd.pid
UsePAM no
PermitRootLogin no
AllowUsers $user
PubkeyAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile $data/keys/authorized_keys
StrictModes no
AllowTcpForwarding no
X11Forwarding no
MaxStartups 64:30:128
LogLevel INFO
CONF
    printf '%s\n' "$@"
  } | as_root tee "$data/sshd_config" >/dev/null
  as_root /usr/sbin/sshd -t -f "$data/sshd_config" || die "sshd rejected $data/sshd_config"
  as_root /usr/sbin/sshd -f "$data/sshd_config" -E "$data/sshd.log" || die "could not start sshd (see $data/sshd.log)"
  for i in $(seq 1 40); do
    sshd_up "$port" && { log "$name ssh server ready on 127.0.0.1:$port"; return 0; }
    sleep 0.25
  done
  die "sshd ($name) did not listen on 127.0.0.1:$port within 10 s (see $data/sshd.log)"
}
