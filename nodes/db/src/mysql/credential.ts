/** The `mysql` credential type (MySQL and MariaDB): where the server is, who to be, TLS; and its connection test. */
import type mysql from 'mysql2/promise';
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { loadMysql } from '../shared/libs.ts';
import { connectionOptions, DEFAULT_PORT, describeServer, MysqlError, type MysqlFields } from './connect.ts';

export const mysqlCredentialSchema = {
  type: 'object',
  required: ['host', 'user'],
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, title: 'Host', description: 'Server name or address. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: DEFAULT_PORT, title: 'Port' },
    database: { type: 'string', title: 'Database', description: 'Default database for unqualified table names (optional).' },
    user: { type: 'string', minLength: 1, title: 'User' },
    password: { type: 'string', writeOnly: true, format: 'password', title: 'Password' },
    ssl: {
      enum: ['disable', 'require', 'verify-full'],
      default: 'verify-full',
      title: 'TLS',
      description: 'verify-full: TLS, certificate checked against the host name (default). require: TLS without checking the certificate. disable: no TLS (trusted networks only).',
    },
    ca: { type: 'string', title: 'CA certificate (PEM)', description: 'The CA that signed the server certificate, if not a public one.' },
    maxConnections: { type: 'integer', minimum: 1, maximum: 100, default: 10, title: 'Connections at most', description: 'Connections this runtime opens at most with this credential (shared by all nodes using it).' },
    connectTimeoutMs: { type: 'integer', minimum: 100, maximum: 120_000, default: 10_000, title: 'Connect timeout (ms)' },
  },
} as const satisfies JsonSchema;

export const mysqlCredential = defineCredentialType<MysqlFields>({
  name: 'mysql',
  label: 'MySQL / MariaDB',
  description: 'A MySQL or MariaDB server and the account to connect as. One connection pool per credential is shared by every node that uses it.',
  schema: mysqlCredentialSchema,
  secret: ['password'],
  async test(fields, services, signal) {
    let conn: mysql.Connection | undefined;
    const onAbort = () => conn?.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      conn = await (await loadMysql()).createConnection(connectionOptions(fields, services));
      const [rows] = await conn.query<Array<{ version: string; user: string; readonly: number } & mysql.RowDataPacket>>('SELECT VERSION() AS version, CURRENT_USER() AS user, @@global.read_only AS readonly');
      const row = rows[0]!;
      const product = /mariadb/i.test(row.version) ? 'MariaDB' : 'MySQL';
      return { ok: true, message: `connected to ${product} ${row.version} at ${describeServer(fields).replace(/^[^@]*@/, '')} as ${row.user}${Number(row.readonly) ? ' (read-only)' : ''}` };
    } catch (error) {
      return { ok: false, message: new MysqlError(describeServer(fields), 'connection test', error).message };
    } finally {
      signal.removeEventListener('abort', onAbort);
      await conn?.end().catch(() => conn?.destroy());
    }
  },
});
