/** Settings for several runtimes sharing one PostgreSQL (run leases; later the queue): FLOWCREW_INSTANCE_ID, FLOWCREW_LEASE_TTL_MS. */
import { hostname } from 'node:os';

export interface ClusterConfig {
  /**
   * This runtime's name as an owner of run leases. Stable across restarts by default (host and data directory), so
   * a runtime restarted after a crash resumes its own runs at once instead of waiting for their leases to expire.
   * Two runtimes must never share it: set FLOWCREW_INSTANCE_ID when they share a host and a data directory.
   */
  instanceId: string;
  /** How long a run lease lasts without renewal; renewed every third of it. A dead runtime's runs move after this. */
  leaseTtlMs: number;
}

export function parseClusterConfig(env: NodeJS.ProcessEnv, dataDir: string): ClusterConfig {
  const ttl = env.FLOWCREW_LEASE_TTL_MS === undefined || env.FLOWCREW_LEASE_TTL_MS === '' ? 30_000 : Number(env.FLOWCREW_LEASE_TTL_MS);
  if (!Number.isInteger(ttl) || ttl < 1_000) throw new Error(`FLOWCREW_LEASE_TTL_MS must be an integer of at least 1000 (ms) (got "${env.FLOWCREW_LEASE_TTL_MS}")`);
  const instanceId = env.FLOWCREW_INSTANCE_ID?.trim() || `${hostname()}:${dataDir}`;
  if (instanceId.length > 200) throw new Error('FLOWCREW_INSTANCE_ID must be at most 200 characters');
  return { instanceId, leaseTtlMs: ttl };
}
