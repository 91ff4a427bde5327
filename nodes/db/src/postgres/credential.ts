/** The `postgres` credential type: where the server is, who to be, how to secure the connection; and its test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { loadPg } from '../shared/libs.ts';
import { clientConfig, describeServer, PostgresError, type PostgresFields } from './connect.ts';

export const postgresCredentialSchema = {
  type: 'object',
  required: ['host', 'database', 'user'],
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, description: 'Server name or address. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432 },
    database: { type: 'string', minLength: 1 },
    user: { type: 'string', minLength: 1 },
    password: { type: 'string', writeOnly: true, format: 'password' },
    ssl: {
      enum: ['disable', 'require', 'verify-full'],
      default: 'verify-full',
      description: 'verify-full: TLS, certificate checked against the host name (default). require: TLS without checking the certificate. disable: no TLS (trusted networks only).',
    },
    ca: { type: 'string', description: 'PEM certificate of the CA that signed the server certificate, if not a public one.' },
    applicationName: { type: 'string', default: 'flowcrew-db', description: 'Shown in pg_stat_activity (the runtime itself connects as flowcrew).' },
    maxConnections: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'Connections this runtime opens at most with this credential (shared by all nodes using it).' },
    statementTimeoutMs: { type: 'integer', minimum: 0, default: 0, description: 'Server-side limit for each statement (0: none).' },
  },
} as const satisfies JsonSchema;

export const postgresCredential = defineCredentialType<PostgresFields>({
  name: 'postgres',
  label: 'PostgreSQL',
  description: 'A PostgreSQL server and the role to connect as. Used by the PostgreSQL nodes; one connection pool per credential is shared by every node that uses it.',
  schema: postgresCredentialSchema,
  secret: ['password'],
  async test(fields, services, signal) {
    const pg = await loadPg();
    const client = new pg.Client(clientConfig(fields, services.outbound));
    const onAbort = () => void client.end().catch(() => undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await client.connect();
      const { rows } = await client.query<{ version: string; user: string; readonly: string }>(
        "SELECT current_setting('server_version') AS version, current_user AS user, current_setting('transaction_read_only') AS readonly",
      );
      const row = rows[0]!;
      return { ok: true, message: `connected to PostgreSQL ${row.version} at ${fields.host}:${fields.port ?? 5432}/${fields.database} as ${row.user}${row.readonly === 'on' ? ' (read-only)' : ''}` };
    } catch (error) {
      return { ok: false, message: new PostgresError(describeServer(fields), 'connection test', error).message };
    } finally {
      signal.removeEventListener('abort', onAbort);
      await client.end().catch(() => undefined);
    }
  },
});
