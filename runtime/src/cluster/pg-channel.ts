/**
 * Deploy announcements over PostgreSQL LISTEN/NOTIFY (cluster/channel.ts), for embedded runtimes that share PostgreSQL
 * without Redis (cluster/deploy-sync.ts). What was announced while the connection was down is caught up when it is
 * back (DeploySync reconciles with storage).
 */
import type { Logger } from '@flowcrew/sdk';
import { PgChannel } from './channel.ts';
import { DeploySync } from './deploy-sync.ts';
import type { Executor } from '../executor/executor.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import type { Storage } from '../storage/types.ts';

const CHANNEL = 'flowcrew_deploys';

/**
 * The runtime's deploy following when embedded runtimes share PostgreSQL (run leases exist, no queue mode): null
 * otherwise (queue mode follows deploys over Redis: queue/mode.ts).
 */
export async function followDeploysOverPostgres(parts: {
  databaseUrl: string | undefined;
  mode: 'embedded' | 'main' | 'worker';
  instance: string;
  storage: Storage;
  executor: Executor;
  registry: NodeRegistry;
  log: Logger;
  maxDepth?: number;
}): Promise<DeploySync | null> {
  if (parts.mode !== 'embedded' || !parts.storage.leases || !parts.databaseUrl) return null;
  const sync = new DeploySync({ ...parts, channel: new PgChannel(CHANNEL, parts.databaseUrl, parts.log) });
  try {
    await sync.start();
  } catch (error) {
    sync.close();
    parts.log.warn(`deploy sync: could not listen on PostgreSQL (${(error as Error).message}); other runtimes' deploys are followed at restart only`);
    return null;
  }
  return sync;
}
