# shellcheck shell=bash
# A real Git server for the Git-backed projects tests (runtime/src/git): Debian's OpenSSH on 127.0.0.1:2223 with its
# own sshd_config, host key and data under /var/lib/flowcrew-git, user flowcrew-git whose login shell is git-shell
# (push and fetch only, no shell). Bare repositories live in /var/lib/flowcrew-git/home/repos (the tests create one
# per test); the client's private key is /var/lib/flowcrew-git/client_ed25519, the host's public key
# /var/lib/flowcrew-git/host_ed25519.pub (for known_hosts). openssl and git's http-backend serve the HTTPS tests
# (runtime/src/git/https.test.ts starts its own server per test file). Sourced by scripts/services.
DEFAULT_SERVICES+=(git)
GIT_SSH_PORT="${FLOWCREW_GIT_SSH_PORT:-2223}"
GIT_DATA=/var/lib/flowcrew-git
GIT_USER=flowcrew-git

service_git() {
  apt_install openssh-server git openssl
  if sshd_up "$GIT_SSH_PORT"; then
    log "git (sshd) already running on 127.0.0.1:$GIT_SSH_PORT"
    return 0
  fi
  log "starting sshd (git-shell only) on 127.0.0.1:$GIT_SSH_PORT"
  sshd_account "$GIT_DATA" "$GIT_USER" /usr/bin/git-shell
  # A locked password (no '!' prefix that sshd reads as "account locked"): only the key logs in.
  echo "$GIT_USER:*" | as_root chpasswd -e
  as_root install -d -m 755 -o "$GIT_USER" -g "$GIT_USER" "$GIT_DATA/home/repos"
  # ssh-server.sh: keys, the shared sshd_config settings, start and wait.
  sshd_start git "$GIT_SSH_PORT" "$GIT_DATA" "$GIT_USER" 'PasswordAuthentication no' 'PermitTTY no'
}
