/** The `sftp` credential type: server, user, password or private key, pinned host key; and its test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { FileStoreError } from '../store.ts';
import { connectSftp, describeSftp, type SftpFields } from './connect.ts';

export const sftpCredentialSchema = {
  type: 'object',
  required: ['host', 'username'],
  additionalProperties: false,
  properties: {
    host: { title: 'Host', type: 'string', minLength: 1, description: 'Server name or address. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
    port: { title: 'Port', type: 'integer', minimum: 1, maximum: 65535, default: 22 },
    username: { title: 'User', type: 'string', minLength: 1 },
    password: { title: 'Password', type: 'string', writeOnly: true, format: 'password', description: 'Password authentication (or leave empty and give a private key).' },
    privateKey: { title: 'Private key', type: 'string', writeOnly: true, 'x-editor': 'code', description: 'The private key in OpenSSH or PEM format (-----BEGIN ...).' },
    passphrase: { title: 'Key passphrase', type: 'string', writeOnly: true, format: 'password' },
    hostFingerprint: { title: 'Host key fingerprint', type: 'string', pattern: '^SHA256:[A-Za-z0-9+/]{43}=?$', description: 'SHA256:... as ssh-keygen -lf prints it. Set: any other server key is refused. "Test connection" shows the server\'s.' },
    root: { title: 'Directory', type: 'string', description: 'Paths in nodes are relative to this directory (empty: the login directory); ".." cannot leave it.' },
    readOnly: { title: 'Read only', type: 'boolean', default: false, description: 'Refuse writes, deletes and moves.' },
    connectTimeoutMs: { title: 'Connect timeout (ms)', type: 'integer', minimum: 1000, maximum: 120_000, default: 15_000 },
  },
  anyOf: [{ required: ['password'] }, { required: ['privateKey'] }],
} as const satisfies JsonSchema;

export const sftpCredential = defineCredentialType<SftpFields>({
  name: 'sftp',
  label: 'SFTP',
  description: 'An SSH server with SFTP, and the user to log in as (password or private key). One connection per credential is shared by every node using it.',
  schema: sftpCredentialSchema,
  secret: ['password', 'privateKey', 'passphrase'],
  async test(fields, services) {
    try {
      const connection = await connectSftp(fields, services.outbound);
      try {
        const dir = await connection.client.realPath(fields.root || '.');
        if (!dir) return { ok: false, message: `${describeSftp(fields)}: connected, but the directory "${fields.root}" does not exist` };
        const pin = fields.hostFingerprint ? 'matches the pinned one' : 'pin it in "Host key fingerprint" to refuse any other';
        return { ok: true, message: `connected to ${describeSftp(fields)}, directory ${dir}; host key ${connection.hostFingerprint} (${pin})` };
      } finally {
        await connection.client.end().catch(() => undefined);
      }
    } catch (error) {
      return { ok: false, message: new FileStoreError(describeSftp(fields), 'connection test', undefined, error).message };
    }
  },
});
