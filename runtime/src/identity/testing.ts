/** Test helpers for the identity mechanisms: a real Identity over an in-memory SQLite storage. */
import type { Logger } from '@flowcrew/sdk';
import { loadConfig, type AuthConfig, type HttpConfig, type RuntimeConfig } from '../config.ts';
import { createSqliteStorage } from '../storage/sqlite.ts';
import type { SqlStorage } from '../storage/sql-storage.ts';
import { Identity } from './identity.ts';

export const quietLog: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function testConfig(auth: Partial<AuthConfig> = {}, http: Partial<HttpConfig> = {}, rest: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const base = loadConfig({ FLOWCREW_FLOWS_DIR: '' }, { dataDir: ':memory:' });
  return { ...base, ...rest, auth: { ...base.auth, ...auth }, http: { ...base.http, ...http } };
}

export interface OpenedIdentity {
  identity: Identity;
  storage: SqlStorage;
  config: RuntimeConfig;
  close(): Promise<void>;
}

export async function openTestIdentity(config: RuntimeConfig = testConfig()): Promise<OpenedIdentity> {
  const storage = createSqliteStorage({ filename: ':memory:' });
  await storage.migrate();
  const identity = await Identity.open(storage, config, quietLog);
  return {
    identity,
    storage,
    config,
    async close() {
      identity.close();
      await storage.close();
    },
  };
}

/** Audit entries (newest first), waiting briefly for fire-and-forget writes to commit. */
export async function auditEntries(identity: Identity, query: Parameters<Identity['audit']['query']>[0] = {}) {
  await new Promise((r) => setTimeout(r, 20));
  return (await identity.audit.query({ limit: 1000, ...query })).entries;
}
