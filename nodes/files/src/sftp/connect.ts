/**
 * SFTP connections: one SSH connection (with one SFTP channel, which carries concurrent requests) per credential
 * revision, shared by every node through the runtime's pooled resources. The TCP socket is opened to the address the
 * outbound guard checked; the server's host key is checked against the credential's pinned fingerprint.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import type SftpClient from 'ssh2-sftp-client';
import { loadSftp } from '../libs.ts';
import { OutboundRefusedError, PooledResource, type NodeCredential, type OutboundServices, type RuntimeServices } from '@flowcrew/sdk';

export interface SftpFields extends Record<string, unknown> {
  host: string;
  port?: number;
  username: string;
  password?: string;
  privateKey?: string;
  passphrase?: string;
  /** 'SHA256:<base64>' as `ssh-keygen -lf` prints it. */
  hostFingerprint?: string;
  /** Directory every path is relative to (empty: the login directory). */
  root?: string;
  readOnly?: boolean;
  connectTimeoutMs?: number;
}

export function describeSftp(fields: Pick<SftpFields, 'host' | 'port' | 'username'>): string {
  return `SFTP ${fields.username}@${fields.host}:${fields.port ?? 22}`;
}

/** A host key's fingerprint as OpenSSH prints it. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** A TCP connection to `host` through the outbound guard, connected (ssh2 is handed a ready socket). */
async function guardedSocket(outbound: OutboundServices, host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  const target = await outbound.check(host, port);
  const address = target.addresses[0];
  if (!address) throw new OutboundRefusedError(`${host} resolved to no allowed address`);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: address.address, port, family: address.family });
    const timer = setTimeout(() => socket.destroy(Object.assign(new Error(`no connection within ${timeoutMs} ms`), { code: 'ETIMEDOUT' })), timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export interface SftpConnection {
  client: SftpClient;
  /** The server's host key fingerprint (to pin it). */
  hostFingerprint: string;
  /** Set when the connection ended or failed: it is not reused. */
  closed: boolean;
}

/** Connect and open the SFTP channel; fails naming the server and the reason (wrong password, host key mismatch...). */
export async function connectSftp(fields: SftpFields, outbound: OutboundServices): Promise<SftpConnection> {
  const port = fields.port ?? 22;
  const timeout = fields.connectTimeoutMs ?? 15_000;
  const sock = await guardedSocket(outbound, fields.host, port, timeout);
  const client = new (await loadSftp())('flowcrew');
  const connection: SftpConnection = { client, hostFingerprint: '', closed: false };
  let mismatch: string | undefined;
  // An error or end after connect must never go unheard (it would crash the runtime): mark the connection closed.
  client.on('error', () => (connection.closed = true));
  client.on('end', () => (connection.closed = true));
  client.on('close', () => (connection.closed = true));
  try {
    await client.connect({
      sock,
      host: fields.host,
      port,
      username: fields.username,
      ...(fields.password ? { password: fields.password } : {}),
      ...(fields.privateKey ? { privateKey: fields.privateKey, ...(fields.passphrase ? { passphrase: fields.passphrase } : {}) } : {}),
      readyTimeout: timeout,
      keepaliveInterval: 30_000,
      hostVerifier: (key: Buffer) => {
        connection.hostFingerprint = fingerprint(key);
        const pinned = fields.hostFingerprint?.trim();
        if (pinned && pinned.replace(/=+$/, '') !== connection.hostFingerprint) {
          mismatch = `the server's host key ${connection.hostFingerprint} is not the pinned ${pinned} (a different server, or its key changed)`;
          return false;
        }
        return true;
      },
    } as SftpClient.ConnectOptions);
    return connection;
  } catch (error) {
    sock.destroy();
    await client.end().catch(() => undefined);
    if (mismatch) throw Object.assign(new Error(mismatch), { code: 'EHOSTKEY', retryable: false });
    const e = error as Error & { code?: string; level?: string };
    if (e.level === 'client-authentication' || /authentication methods failed/i.test(e.message)) {
      throw Object.assign(new Error(`authentication failed for user ${fields.username} (${fields.privateKey ? 'private key' : 'password'})`), { code: 'EAUTH', retryable: false });
    }
    throw error;
  }
}

/** The connection a node uses: the credential's, re-opened after the credential changed or the connection dropped. */
export function sftpHandle(services: RuntimeServices, credential: NodeCredential<SftpFields>): PooledResource<SftpConnection> {
  return new PooledResource<SftpConnection>(
    services.resources,
    'files:sftp',
    async () => connectSftp(credential.fields, services.outbound),
    async (connection) => {
      await connection.client.end().catch(() => undefined);
    },
    {
      credential,
      idleMs: 10_000,
      check: async (connection) => {
        if (connection.closed) return false;
        await connection.client.cwd();
      },
    },
  );
}
