/**
 * Running the git CLI for a project's working clone: no shell (execFile with an argument list), a time limit, and the
 * credential from the vault handed over for one command only: an SSH key written 0600 into a private temporary
 * directory and deleted afterwards, or a token as an HTTP header through GIT_CONFIG_* environment variables (never on
 * the command line, where `ps` would show it). Errors keep git's own message, which names what went wrong.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export class GitError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
    readonly args: readonly string[],
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export type GitAuth =
  | { kind: 'none' }
  | { kind: 'ssh'; privateKey: string }
  | { kind: 'token'; username?: string; token: string };

export interface GitEnvironment {
  auth: GitAuth;
  /** known_hosts lines; empty = accept a new host key once and remember it in `knownHostsFile`. */
  knownHosts: string | null;
  /** Where the remembered host keys of this clone live. */
  knownHostsFile: string;
  /** CA bundle trusted for HTTPS remotes instead of the system's (FLOWCREW_GIT_CA_FILE); null = the system's. */
  caFile?: string | null;
}

const TIMEOUT_MS = 60_000;
const MAX_OUTPUT = 32 * 1024 * 1024;

/** Run `git args` in `cwd`; resolves with stdout. Exit codes in `allowExit` resolve (with the code) instead of rejecting. */
export async function git(
  cwd: string,
  args: string[],
  options: { env?: GitEnvironment; allowExit?: number[]; author?: string } = {},
): Promise<{ stdout: string; code: number }> {
  let secrets: string | null = null;
  try {
    const env: NodeJS.ProcessEnv = {
      ...baseEnv(),
      // Never prompt: a missing credential must fail at once with git's message, not hang waiting for a terminal.
      GIT_TERMINAL_PROMPT: '0',
      // Only the transports git/remote.ts accepts, even if a URL slipped through: never file://, ext:: or plain http.
      GIT_ALLOW_PROTOCOL: 'ssh:https',
      GIT_ASKPASS: '/bin/false',
      SSH_ASKPASS: '/bin/false',
      // Commits name who asked for them (the acting user); the committer stays Flowcrew.
      ...(options.author ? { GIT_AUTHOR_NAME: options.author, GIT_AUTHOR_EMAIL: `${options.author.replace(/[^\w.-]/g, '_')}@flowcrew.invalid` } : {}),
    };
    if (options.env) {
      secrets = await mkdtemp(path.join(tmpdir(), 'flowcrew-git-'));
      Object.assign(env, await authEnv(options.env, secrets));
    }
    return await new Promise((resolve, reject) => {
      execFile('git', args, { cwd, env, timeout: TIMEOUT_MS, maxBuffer: MAX_OUTPUT, encoding: 'utf8' }, (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, code: 0 });
        const code = typeof error.code === 'number' ? error.code : -1;
        if (options.allowExit?.includes(code)) return resolve({ stdout, code });
        const why = error.killed ? `timed out after ${TIMEOUT_MS / 1000} s` : (stderr.trim() || stdout.trim() || error.message);
        reject(new GitError(`git ${args[0]} failed: ${why}`, stderr, args));
      });
    });
  } finally {
    if (secrets) await rm(secrets, { recursive: true, force: true });
  }
}

/** Only what git needs from the process environment (no inherited GIT_DIR, no user's SSH agent). */
function baseEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: 'C',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'Flowcrew',
    GIT_AUTHOR_EMAIL: 'flowcrew@localhost',
    GIT_COMMITTER_NAME: 'Flowcrew',
    GIT_COMMITTER_EMAIL: 'flowcrew@localhost',
  };
}

async function authEnv(options: GitEnvironment, dir: string): Promise<NodeJS.ProcessEnv> {
  const ssh = ['ssh', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15', '-o', 'IdentitiesOnly=yes', '-F', '/dev/null'];
  if (options.knownHosts) {
    const file = path.join(dir, 'known_hosts');
    await writeFile(file, options.knownHosts.endsWith('\n') ? options.knownHosts : `${options.knownHosts}\n`, { mode: 0o600 });
    ssh.push('-o', `UserKnownHostsFile=${file}`, '-o', 'StrictHostKeyChecking=yes');
  } else {
    ssh.push('-o', `UserKnownHostsFile=${options.knownHostsFile}`, '-o', 'StrictHostKeyChecking=accept-new');
  }
  const env: NodeJS.ProcessEnv = {};
  const auth = options.auth;
  if (auth.kind === 'ssh') {
    const key = path.join(dir, 'id');
    await writeFile(key, auth.privateKey.endsWith('\n') ? auth.privateKey : `${auth.privateKey}\n`, { mode: 0o600 });
    ssh.push('-i', key);
  } else {
    ssh.push('-o', 'PubkeyAuthentication=no', '-o', 'PasswordAuthentication=no');
  }
  if (auth.kind === 'token') {
    const basic = Buffer.from(`${auth.username ?? 'x-access-token'}:${auth.token}`).toString('base64');
    Object.assign(env, { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}` });
  }
  env.GIT_SSH_COMMAND = ssh.map(quote).join(' ');
  if (options.caFile) env.GIT_SSL_CAINFO = options.caFile;
  return env;
}

/** GIT_SSH_COMMAND is run by a shell: quote each word. */
function quote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
