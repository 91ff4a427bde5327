/** Runtime configuration: embedded defaults, overridden by environment variables. */
import path from 'node:path';
import type { RetentionMode, RetentionPolicy } from './storage/types.ts';

export interface RuntimeConfig {
  port: number;
  /** 127.0.0.1 by default: there is no authentication yet. */
  host: string;
  /** Where SQLite, the secret key and user node packs live. */
  dataDir: string;
  /** PostgreSQL connection string; SQLite in dataDir when absent. */
  databaseUrl?: string;
  /** SQLite `synchronous`: NORMAL survives a process kill; FULL also survives power loss, slower. */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Largest accepted request body (API and webhooks), in bytes-parser notation ('1mb'). */
  bodyLimit: string;
  /** Max size of a message preview pushed over Socket.IO, in characters of JSON. */
  previewChars: number;
  retention: RetentionPolicy;
  /** Example/bootstrap flows loaded (once) at start; null to skip. */
  flowsDir: string | null;
  /** Workspace node packs. */
  nodesDir: string;
  /** User node directory (npm packages installed under <dir>/node_modules). */
  userNodesDir: string;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

const repoRoot = path.resolve(import.meta.dirname, '..', '..');

function parseRetentionMode(value: string | undefined): RetentionMode {
  if (value === undefined || value === '') return 'all';
  if (value === 'all' || value === 'failed' || value === 'none') return value;
  throw new Error(`FLOWCREW_RETENTION must be all, failed or none (got "${value}")`);
}

function parseInteger(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`${name} must be a non-negative integer (got "${value}")`);
  return parsed;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<RuntimeConfig> = {}): RuntimeConfig {
  const dataDir = path.resolve(overrides.dataDir ?? env.FLOWCREW_DATA_DIR ?? '.flowcrew');
  const sync = (env.FLOWCREW_SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (sync !== 'NORMAL' && sync !== 'FULL') throw new Error(`FLOWCREW_SQLITE_SYNCHRONOUS must be NORMAL or FULL (got "${sync}")`);
  const logLevel = (env.FLOWCREW_LOG_LEVEL ?? 'info') as RuntimeConfig['logLevel'];
  return {
    port: parseInteger('PORT', env.PORT, 8420),
    host: env.HOST ?? '127.0.0.1',
    dataDir,
    databaseUrl: env.DATABASE_URL || undefined,
    sqliteSynchronous: sync,
    bodyLimit: env.FLOWCREW_BODY_LIMIT ?? '1mb',
    previewChars: parseInteger('FLOWCREW_PREVIEW_CHARS', env.FLOWCREW_PREVIEW_CHARS, 2048),
    retention: {
      mode: parseRetentionMode(env.FLOWCREW_RETENTION),
      maxAgeMs: parseInteger('FLOWCREW_RETENTION_MAX_AGE_DAYS', env.FLOWCREW_RETENTION_MAX_AGE_DAYS, 0) * 86_400_000,
    },
    flowsDir: env.FLOWCREW_FLOWS_DIR === '' ? null : path.resolve(env.FLOWCREW_FLOWS_DIR ?? path.join(repoRoot, 'flows')),
    nodesDir: path.join(repoRoot, 'nodes'),
    userNodesDir: path.resolve(env.FLOWCREW_USER_NODES_DIR ?? path.join(dataDir, 'nodes')),
    logLevel,
    ...overrides,
  };
}
