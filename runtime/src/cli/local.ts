/**
 * How CLI commands reach the data: as the system actor (via 'cli', named after the OS user, so the audit log says who
 * ran it) through the same services as the REST API, never around them.
 */
import { userInfo } from 'node:os';
import type { RuntimeConfig } from '../config.ts';
import { SYSTEM_ACTOR, type Actor } from '../identity/actor.ts';
import { Identity } from '../identity/identity.ts';
import { createLogger, Runtime } from '../runtime.ts';
import { AuditService } from '../services/audit.ts';
import { Services } from '../services/index.ts';
import { UserService } from '../services/users.ts';
import { openStorage } from '../storage/index.ts';

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** The actor of a local command: the system, acting for whoever has shell access to the data directory. */
export function cliActor(): Actor {
  return Object.freeze({ ...SYSTEM_ACTOR, name: `cli (${osUser()})`, via: 'cli', from: 'local' });
}

/** A runtime (flows deployed as stored) with its services, for commands working on flows and runs. */
export async function withServices<T>(config: RuntimeConfig, work: (services: Services, runtime: Runtime) => Promise<T>): Promise<T> {
  const runtime = await Runtime.create(config, { loadExamples: false });
  const identity = await Identity.open(runtime.storage, config, runtime.log);
  try {
    return await work(new Services(runtime, identity), runtime);
  } finally {
    identity.close();
    await runtime.close();
  }
}

/** Storage and identity only (no flow is deployed, no trigger starts): for user commands beside a running server. */
export async function withUsers<T>(config: RuntimeConfig, work: (users: UserService) => Promise<T>): Promise<T> {
  const log = createLogger(config.logLevel);
  const storage = await openStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, sqliteSynchronous: config.sqliteSynchronous });
  const identity = await Identity.open(storage, config, log);
  try {
    return await work(new UserService(identity, new AuditService(identity.audit)));
  } finally {
    identity.close();
    await storage.close();
  }
}
