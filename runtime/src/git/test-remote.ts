/**
 * Test helpers for the real Git server (Debian's OpenSSH with git-shell on 127.0.0.1:2223, `bash scripts/services git`):
 * a fresh bare repository per test file, the server's host key as known_hosts, the client key, and commits made "on a
 * developer's laptop" (a clone over SSH, edit, push) — the other side of a conflict or a rejected push.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

export const GIT_DATA = '/var/lib/flowcrew-git';
export const GIT_SSH_PORT = Number(process.env.FLOWCREW_GIT_SSH_PORT ?? 2223);
/** Whether the Git SSH server's data is here (its tests fail in CI without it and skip elsewhere). */
export const gitServerReady = existsSync(`${GIT_DATA}/client_ed25519`) && existsSync(`${GIT_DATA}/home/repos`);

export class TestRemote {
  readonly bare: string;
  readonly url: string;
  readonly knownHosts: string;
  readonly privateKey: string;
  /** A scratch directory of this test's (removed with the repository). */
  readonly scratch: string;
  private readonly laptopSsh: string;

  /** Creates a bare repository (initial branch `main`) owned by the server's git user. */
  constructor(prefix = 't') {
    this.bare = `${GIT_DATA}/home/repos/${prefix}-${process.pid}-${randomBytes(3).toString('hex')}.git`;
    this.url = `ssh://flowcrew-git@127.0.0.1:${GIT_SSH_PORT}${this.bare}`;
    this.knownHosts = `[127.0.0.1]:${GIT_SSH_PORT} ${readFileSync(`${GIT_DATA}/host_ed25519.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
    this.privateKey = readFileSync(`${GIT_DATA}/client_ed25519`, 'utf8');
    this.scratch = mkdtempSync(path.join(tmpdir(), 'flowcrew-git-remote-'));
    writeFileSync(path.join(this.scratch, 'known_hosts'), this.knownHosts);
    this.laptopSsh = `ssh -F /dev/null -i ${GIT_DATA}/client_ed25519 -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=${this.scratch}/known_hosts`;
    execFileSync('git', ['init', '-q', '--bare', '-b', 'main', this.bare]);
    this.chown();
  }

  /** The outbound guard refuses loopback unless an administrator allows it: the env a test server needs. */
  static allowEnv(): Record<string, string> {
    return { FLOWCREW_OUTBOUND_ALLOW: `127.0.0.1:${GIT_SSH_PORT}` };
  }

  /** A plain git command on the bare repository. */
  inRepo(...args: string[]): string {
    return execFileSync('git', ['--git-dir', this.bare, ...args], { encoding: 'utf8' });
  }

  /** Commits a change to one flow file (flows/<id>.json) on a branch over SSH, as a developer's laptop would. */
  commitFlow(branch: string, flowId: string, change: (flow: Record<string, unknown>) => void): void {
    this.commitFile(branch, `flows/${flowId}.json`, change);
  }

  /** Commits a change to one JSON file of a branch over SSH (clone, edit, commit, push). */
  commitFile(branch: string, file: string, change: (doc: Record<string, unknown>) => void): void {
    const work = path.join(this.scratch, `w-${randomBytes(3).toString('hex')}`);
    const env = { ...process.env, GIT_SSH_COMMAND: this.laptopSsh };
    execFileSync('git', ['clone', '-q', '-b', branch, this.url, work], { env });
    const doc = JSON.parse(readFileSync(path.join(work, file), 'utf8')) as Record<string, unknown>;
    change(doc);
    writeFileSync(path.join(work, file), `${JSON.stringify(doc, null, 2)}\n`);
    const git = (...a: string[]) => execFileSync('git', ['-C', work, '-c', 'user.name=Laptop', '-c', 'user.email=l@x', ...a], { env });
    git('commit', '-qam', `edit ${file} on a laptop`);
    git('push', '-q', 'origin', branch);
  }

  /** Installs a pre-receive hook that refuses every push with `message` (until `allowPushes`). */
  refusePushes(message: string): void {
    writeFileSync(`${this.bare}/hooks/pre-receive`, `#!/bin/sh\necho ${JSON.stringify(message)} >&2\nexit 1\n`, { mode: 0o755 });
    this.chown();
  }

  allowPushes(): void {
    rmSync(`${this.bare}/hooks/pre-receive`, { force: true });
  }

  remove(): void {
    rmSync(this.bare, { recursive: true, force: true });
    rmSync(this.scratch, { recursive: true, force: true });
  }

  /** Gives the repository (back) to the server's git user (after root wrote into it). */
  chown(): void {
    execFileSync('chown', ['-R', 'flowcrew-git:flowcrew-git', this.bare]);
  }
}
