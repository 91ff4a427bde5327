# shellcheck shell=bash
# A real Git server for the Git-backed projects tests (runtime/src/git): Debian's OpenSSH on 127.0.0.1:2223 with its
# own sshd_config, host key and data under /var/lib/flowcrew-git, user flowcrew-git whose login shell is git-shell
# (push and fetch only, no shell). Bare repositories live in /var/lib/flowcrew-git/home/repos (the tests create one
# per test); the client's private key is /var/lib/flowcrew-git/client_ed25519, the host's public key
# /var/lib/flowcrew-git/host_ed25519.pub (for known_hosts). Sourced by scripts/services.
DEFAULT_SERVICES+=(git)
GIT_SSH_PORT="${FLOWCREW_GIT_SSH_PORT:-2223}"
GIT_DATA=/var/lib/flowcrew-git
GIT_USER=flowcrew-git

git_ssh_up() { (exec 3<>"/dev/tcp/127.0.0.1/$GIT_SSH_PORT") 2>/dev/null; }

service_git() {
  apt_install openssh-server git
  if git_ssh_up; then
    log "git (sshd) already running on 127.0.0.1:$GIT_SSH_PORT"
    return 0
  fi
  log "starting sshd (git-shell only) on 127.0.0.1:$GIT_SSH_PORT"
  as_root install -d -m 755 "$GIT_DATA" /run/sshd
  if ! id "$GIT_USER" >/dev/null 2>&1; then
    as_root useradd --system --home-dir "$GIT_DATA/home" --shell /usr/bin/git-shell "$GIT_USER"
  fi
  # A locked password (no '!' prefix that sshd reads as "account locked"): only the key logs in.
  echo "$GIT_USER:*" | as_root chpasswd -e
  as_root install -d -m 755 -o "$GIT_USER" -g "$GIT_USER" "$GIT_DATA/home" "$GIT_DATA/home/repos"
  [ -f "$GIT_DATA/host_ed25519" ] || as_root ssh-keygen -q -t ed25519 -N '' -C flowcrew-git-host -f "$GIT_DATA/host_ed25519"
  [ -f "$GIT_DATA/client_ed25519" ] || as_root ssh-keygen -q -t ed25519 -N '' -C flowcrew-git-client -f "$GIT_DATA/client_ed25519"
  as_root install -d -m 755 "$GIT_DATA/keys"
  as_root install -m 644 "$GIT_DATA/client_ed25519.pub" "$GIT_DATA/keys/authorized_keys"
  as_root tee "$GIT_DATA/sshd_config" >/dev/null <<CONF
Port $GIT_SSH_PORT
ListenAddress 127.0.0.1
HostKey $GIT_DATA/host_ed25519
PidFile $GIT_DATA/sshd.pid
UsePAM no
PermitRootLogin no
AllowUsers $GIT_USER
PasswordAuthentication no
PubkeyAuthentication yes
KbdInteractiveAuthentication no
AuthorizedKeysFile $GIT_DATA/keys/authorized_keys
StrictModes no
AllowTcpForwarding no
X11Forwarding no
PermitTTY no
MaxStartups 64:30:128
LogLevel INFO
CONF
  as_root /usr/sbin/sshd -t -f "$GIT_DATA/sshd_config" || die "sshd rejected $GIT_DATA/sshd_config"
  as_root /usr/sbin/sshd -f "$GIT_DATA/sshd_config" -E "$GIT_DATA/sshd.log" || die "could not start sshd (see $GIT_DATA/sshd.log)"
  local i
  for i in $(seq 1 40); do
    git_ssh_up && { log "git ssh server ready"; return 0; }
    sleep 0.25
  done
  die "sshd did not listen on 127.0.0.1:$GIT_SSH_PORT within 10 s (see $GIT_DATA/sshd.log)"
}
