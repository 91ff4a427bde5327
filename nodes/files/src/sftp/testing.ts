/** Test support for the SFTP nodes: the real sshd `scripts/services sftp` starts, and its test user's credentials. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { SftpFields } from './connect.ts';

export const SFTP_DATA = '/var/lib/flowcrew-sftp';
export const SFTP_PORT = Number(process.env.FLOWCREW_SFTP_PORT ?? 2222);

/** Password credential fields for the test user, rooted at `root` (absolute or under the home directory). */
export function sftpTestFields(overrides: Partial<SftpFields> = {}): SftpFields {
  return { host: '127.0.0.1', port: SFTP_PORT, username: 'flowcrew-sftp', password: 'flowcrew-sftp', ...overrides };
}

/** The test user's private key; fails with what to do when the server was not set up. */
export function sftpTestKey(): string {
  try {
    return readFileSync(`${SFTP_DATA}/client_ed25519`, 'utf8');
  } catch (error) {
    throw new Error(`SFTP test server not set up (${(error as Error).message}): run scripts/services sftp`);
  }
}

/** The server's host key fingerprint, as ssh-keygen prints it. */
export function sftpHostFingerprint(): string {
  return execFileSync('ssh-keygen', ['-lf', `${SFTP_DATA}/host_ed25519.pub`], { encoding: 'utf8' }).split(' ')[1]!;
}

/** Established TCP connections from this machine to the SFTP server right now. */
export function sftpConnections(): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${SFTP_PORT} )`], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.trim()).length;
}
