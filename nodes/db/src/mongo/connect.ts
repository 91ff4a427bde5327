/**
 * Connections to MongoDB (and MongoDB-wire servers such as FerretDB): one MongoClient per credential revision (it
 * keeps its own connection pool), shared by every node of every flow. The host is checked by the outbound guard
 * before the client is made, and every name the driver resolves goes through the guard too (its `lookup`), so the
 * driver only ever connects to checked addresses.
 */
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { MongoClient, MongoClientOptions } from 'mongodb';
import { OutboundRefusedError, PooledResource, type NodeCredential, type OutboundServices, type RuntimeServices } from '@flowcrew/sdk';
import { loadMongodb } from '../shared/libs.ts';

export interface MongoFields extends Record<string, unknown> {
  host: string;
  port?: number;
  database: string;
  username?: string;
  password?: string;
  authSource?: string;
  authMechanism?: 'DEFAULT' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1' | 'PLAIN';
  tls?: 'disable' | 'require' | 'verify-full';
  ca?: string;
  maxConnections?: number;
  appName?: string;
}

export const DEFAULT_PORT = 27017;

export function describeServer(fields: MongoFields): string {
  return `${fields.username ? `${fields.username}@` : ''}${fields.host}:${fields.port ?? DEFAULT_PORT}/${fields.database}`;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A dns.lookup replacement that answers only with addresses the outbound guard allows. */
function guardedLookup(outbound: OutboundServices) {
  return (hostname: string, options: LookupOptions | LookupCallback, callback?: LookupCallback) => {
    const cb = (typeof options === 'function' ? options : callback)!;
    const all = typeof options === 'object' && options.all;
    outbound.check(hostname).then(
      (target) => {
        if (target.addresses.length === 0) return cb(new OutboundRefusedError(`${hostname} resolved to no allowed address`), '');
        if (all) cb(null, target.addresses);
        else cb(null, target.addresses[0]!.address, target.addresses[0]!.family);
      },
      (error: Error) => cb(error, ''),
    );
  };
}

export async function openClient(fields: MongoFields, services: Pick<RuntimeServices, 'outbound'>, overrides: MongoClientOptions = {}): Promise<MongoClient> {
  const port = fields.port ?? DEFAULT_PORT;
  // An IP literal never reaches `lookup`: check the host itself first.
  await services.outbound.check(fields.host, port);
  const tls = fields.tls ?? 'disable';
  const options: MongoClientOptions = {
    directConnection: true,
    appName: fields.appName ?? 'flowcrew-db',
    maxPoolSize: fields.maxConnections ?? 10,
    serverSelectionTimeoutMS: 10_000,
    connectTimeoutMS: 10_000,
    ...(fields.username ? { auth: { username: fields.username, password: fields.password ?? '' }, authSource: fields.authSource ?? fields.database, ...(fields.authMechanism && fields.authMechanism !== 'DEFAULT' ? { authMechanism: fields.authMechanism } : {}) } : {}),
    ...(tls === 'disable' ? {} : { tls: true, tlsAllowInvalidCertificates: tls === 'require', ...(fields.ca ? { ca: fields.ca } : {}) }),
    lookup: guardedLookup(services.outbound) as MongoClientOptions['lookup'],
    ...overrides,
  };
  const { MongoClient } = await loadMongodb();
  const client = new MongoClient(`mongodb://${fields.host.includes(':') ? `[${fields.host}]` : fields.host}:${port}/`, options);
  try {
    await client.connect();
  } catch (error) {
    await client.close().catch(() => undefined);
    throw error;
  }
  return client;
}

/** A failed MongoDB operation, naming the server, what was being done and what the server said. */
export class MongoNodeError extends Error {
  readonly retryable: boolean;
  constructor(server: string, operation: string, cause: unknown) {
    const e = cause as { message?: string; code?: number; codeName?: string; errorLabels?: string[]; name?: string };
    const said = e?.message || String(cause);
    const extras = [e?.codeName, e?.code !== undefined && typeof e.code === 'number' && `code ${e.code}`].filter(Boolean);
    super(`MongoDB ${server}: ${operation} failed: ${said}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    this.name = 'MongoNodeError';
    const network = /MongoNetwork|MongoServerSelection|MongoPoolCleared/.test(e?.name ?? '') || (e?.errorLabels ?? []).includes('RetryableWriteError');
    this.retryable = !(cause instanceof OutboundRefusedError) && network;
  }
}

export function clientHandle(services: RuntimeServices, credential: NodeCredential): PooledResource<MongoClient> {
  return new PooledResource<MongoClient>(services.resources, 'db:mongo:client', async () => openClient(credential.fields as MongoFields, services), (client) => client.close(), {
    credential,
    idleMs: 10_000,
    check: async (client) => {
      await client.db('admin').command({ ping: 1 });
    },
  });
}
