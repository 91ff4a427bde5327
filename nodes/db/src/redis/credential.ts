/** The `redis` credential type: where the server is, who to be (ACL user or password), which database; its test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { DEFAULT_PORT, describeServer, openClient, RedisError, type RedisFields } from './connect.ts';

export const redisCredentialSchema = {
  type: 'object',
  required: ['host'],
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, title: 'Host', description: 'Server name or address. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: DEFAULT_PORT, title: 'Port' },
    username: { type: 'string', title: 'User', description: 'ACL user (Redis 6+); empty for the default user.' },
    password: { type: 'string', writeOnly: true, format: 'password', title: 'Password' },
    db: { type: 'integer', minimum: 0, maximum: 15, default: 0, title: 'Database number' },
    tls: { enum: ['disable', 'require', 'verify-full'], default: 'disable', title: 'TLS', description: 'verify-full: TLS with the certificate checked against the host name. require: TLS without checking it. disable: plain TCP.' },
    ca: { type: 'string', title: 'CA certificate (PEM)' },
    connectionName: { type: 'string', pattern: '^\\S+$', default: 'flowcrew-db', title: 'Connection name', description: 'Shown in CLIENT LIST.' },
    commandTimeoutMs: { type: 'integer', minimum: 100, maximum: 300_000, default: 30_000, title: 'Command timeout (ms)' },
  },
} as const satisfies JsonSchema;

export const redisCredential = defineCredentialType<RedisFields>({
  name: 'redis',
  label: 'Redis',
  description: 'A Redis server (or a compatible one) and the account to use. One connection per credential is shared by every node that uses it.',
  schema: redisCredentialSchema,
  secret: ['password'],
  async test(fields, services, signal) {
    let client: Awaited<ReturnType<typeof openClient>> | undefined;
    const onAbort = () => client?.disconnect();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      client = await openClient({ ...fields, commandTimeoutMs: 10_000 }, services, { name: 'flowcrew-test' });
      const info = await client.info('server');
      const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown version';
      const user = await client.call('ACL', 'WHOAMI').catch(() => fields.username || 'default');
      return { ok: true, message: `connected to Redis ${version} at ${fields.host}:${fields.port ?? DEFAULT_PORT}/${fields.db ?? 0} as ${String(user)}` };
    } catch (error) {
      return { ok: false, message: new RedisError(describeServer(fields), 'connection test', error).message };
    } finally {
      signal.removeEventListener('abort', onAbort);
      client?.disconnect();
    }
  },
});
