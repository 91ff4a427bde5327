/** Storage entry point: `openStorage` picks PostgreSQL when a database URL is configured, else SQLite. */
import { createPostgresStorage } from './postgres.ts';
import { createSqliteStorage, sqliteFileIn } from './sqlite.ts';
import type { MessageLimits, Storage } from './types.ts';

export interface StorageConfig {
  /** postgres://... selects PostgreSQL; unset means SQLite in `dataDir`. */
  databaseUrl?: string;
  /** Directory for `flowcrew.db` (created if missing), or ':memory:' for a throwaway in-memory database. */
  dataDir: string;
  sqliteSynchronous?: 'NORMAL' | 'FULL';
  /** Limits on stored messages; defaults 16 MB and 128 levels. */
  limits?: MessageLimits;
}

/** Open and migrate the configured storage. Rejects with a clear message when the database is unusable. */
export async function openStorage(config: StorageConfig): Promise<Storage> {
  const storage = config.databaseUrl
    ? await createPostgresStorage({ connectionString: config.databaseUrl, limits: config.limits })
    : createSqliteStorage({
        filename: config.dataDir === ':memory:' ? ':memory:' : sqliteFileIn(config.dataDir),
        synchronous: config.sqliteSynchronous,
        limits: config.limits,
      });
  try {
    await storage.migrate();
  } catch (error) {
    await storage.close().catch(() => {});
    throw error;
  }
  return storage;
}

export * from './types.ts';
export { SqlStorage, type SqlDriver, type SqlStatement, type StatementResult, type GroupCommitStats } from './sql-storage.ts';
export { createSqliteStorage, sqliteFileIn, type SqliteOptions } from './sqlite.ts';
export { createPostgresStorage, type PostgresOptions } from './postgres.ts';
export { MIGRATIONS, migrate, type Migration } from './migrations.ts';
export { decideRetention, applyRetention, isFinished, RunPruner, type RetentionDecision } from './retention.ts';
