/** The `odbc` credential type: a driver registered with unixODBC, the server, the account; and its test. */
import type odbc from 'odbc';
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { connectionString, describeServer, loadOdbc, OdbcError, type OdbcFields } from './connect.ts';

export const odbcCredentialSchema = {
  type: 'object',
  required: ['driver', 'host', 'port'],
  additionalProperties: false,
  properties: {
    driver: { type: 'string', minLength: 1, title: 'Driver', description: 'The driver name in odbcinst.ini (odbcinst -q -d), e.g. "PostgreSQL Unicode" or "MariaDB Unicode".' },
    host: { type: 'string', minLength: 1, title: 'Host', description: 'The outbound guard checks it; the driver is given the checked address.' },
    port: { type: 'integer', minimum: 1, maximum: 65535, title: 'Port' },
    database: { type: 'string', title: 'Database' },
    user: { type: 'string', title: 'User' },
    password: { type: 'string', writeOnly: true, format: 'password', title: 'Password' },
    attributes: { type: 'object', additionalProperties: { type: 'string' }, title: 'More attributes', description: 'Further connection string attributes for the driver, e.g. { "SSLMode": "require" }.' },
    maxConnections: { type: 'integer', minimum: 1, maximum: 50, default: 5, title: 'Connections at most' },
    loginTimeoutSeconds: { type: 'integer', minimum: 1, maximum: 120, default: 10, title: 'Login timeout (s)' },
  },
} as const satisfies JsonSchema;

export const odbcCredential = defineCredentialType<OdbcFields>({
  name: 'odbc',
  label: 'ODBC',
  description: 'A database reached through an ODBC driver installed on the runtime host (unixODBC). One pool per credential is shared by every node.',
  schema: odbcCredentialSchema,
  secret: ['password'],
  async test(fields, services) {
    let conn: odbc.Connection | undefined;
    try {
      conn = await (await loadOdbc()).connect({ connectionString: await connectionString(fields, services), loginTimeout: fields.loginTimeoutSeconds ?? 10 });
      const info = conn as unknown as { dbmsName?: string; dbmsVersion?: string };
      // Not every driver reports its DBMS (MariaDB's does not): then only where.
      return { ok: true, message: `connected to ${info.dbmsName ?? 'the database'} ${info.dbmsVersion ?? ''} at ${describeServer(fields)}`.replace(/\s+at/, ' at') };
    } catch (error) {
      return { ok: false, message: new OdbcError(describeServer(fields), 'connection test', error).message };
    } finally {
      await conn?.close().catch(() => undefined);
    }
  },
});
