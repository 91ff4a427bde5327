/** The `mongodb` credential type (MongoDB and MongoDB-wire servers such as FerretDB) and its connection test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { DEFAULT_PORT, describeServer, MongoNodeError, openClient, type MongoFields } from './connect.ts';

export const mongoCredentialSchema = {
  type: 'object',
  required: ['host', 'database'],
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, title: 'Host', description: 'Server name or address (a single server: direct connection). The outbound guard must allow it.' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: DEFAULT_PORT, title: 'Port' },
    database: { type: 'string', minLength: 1, title: 'Database' },
    username: { type: 'string', title: 'User' },
    password: { type: 'string', writeOnly: true, format: 'password', title: 'Password' },
    authSource: { type: 'string', title: 'Authentication database', description: 'Default: the database. $external for PLAIN (LDAP, FerretDB).' },
    authMechanism: { enum: ['DEFAULT', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'], default: 'DEFAULT', title: 'Authentication mechanism', description: 'DEFAULT lets the server choose (SCRAM). FerretDB 1.x on PostgreSQL takes PLAIN.' },
    tls: { enum: ['disable', 'require', 'verify-full'], default: 'disable', title: 'TLS' },
    ca: { type: 'string', title: 'CA certificate (PEM)' },
    maxConnections: { type: 'integer', minimum: 1, maximum: 100, default: 10, title: 'Connections at most' },
    appName: { type: 'string', default: 'flowcrew-db', title: 'Application name', description: 'Sent in the handshake (server logs, currentOp).' },
  },
} as const satisfies JsonSchema;

export const mongoCredential = defineCredentialType<MongoFields>({
  name: 'mongodb',
  label: 'MongoDB',
  description: 'A MongoDB server (or a MongoDB-wire server such as FerretDB) and the account to use. One client (with its pool) per credential is shared by every node.',
  schema: mongoCredentialSchema,
  secret: ['password'],
  async test(fields, services, signal) {
    let client: Awaited<ReturnType<typeof openClient>> | undefined;
    const onAbort = () => void client?.close();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      client = await openClient(fields, services, { serverSelectionTimeoutMS: 5000, maxPoolSize: 1 });
      const db = client.db(fields.database);
      const info = await db.command({ buildInfo: 1 });
      // A command on the database itself: some servers (FerretDB) authenticate lazily, on the first real use.
      await db.command({ listCollections: 1, nameOnly: true });
      const ferret = info.ferretdbVersion ? ` (FerretDB ${info.ferretdbVersion})` : '';
      return { ok: true, message: `connected to MongoDB ${info.version}${ferret} at ${fields.host}:${fields.port ?? DEFAULT_PORT}/${fields.database}${fields.username ? ` as ${fields.username}` : ''}` };
    } catch (error) {
      return { ok: false, message: new MongoNodeError(describeServer(fields), 'connection test', error).message };
    } finally {
      signal.removeEventListener('abort', onAbort);
      await client?.close().catch(() => undefined);
    }
  },
});
