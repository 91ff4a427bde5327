/**
 * SQLite backup and restore through SQLite's online backup API (better-sqlite3's `backup()`):
 * - backup copies a consistent snapshot while runtimes keep writing (a write during the copy restarts it);
 * - restore copies the backup INTO the live database file through SQLite itself, in one write transaction: it
 *   commits whole or not at all (a crash or kill mid-restore leaves the old database), and a running runtime's
 *   connection sees either the old or the new database, never a mix. Replacing the file by rename would be neither
 *   (a stale -wal file from the old database applied to the new one corrupts it).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../storage/migrations.ts';
import { RestoreRefused, SQLITE_MAGIC, type BackupSummary, type Counts, type RestoreSummary } from './types.ts';

/** Pages copied per step: large, so a restore takes few steps (a runtime writing meanwhile restarts a backup less). */
const PAGES_PER_STEP = 100_000;

export async function backupSqlite(source: string, file: string): Promise<BackupSummary> {
  if (!existsSync(source)) throw new Error(`no SQLite database at ${source} (is the data directory right? -d / FLOWCREW_DATA_DIR)`);
  const partial = `${file}.partial`;
  await rm(partial, { force: true });
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await db.backup(partial, { progress: () => PAGES_PER_STEP });
  } catch (error) {
    await rm(partial, { force: true });
    throw new Error(`the SQLite backup of ${source} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    db.close();
  }
  // A self-contained file (rollback journal, not WAL), checked before it takes the final name: a failed or partial
  // backup never sits under the name of a good one.
  let summary: { schemaVersion: number; counts: Counts };
  try {
    const copy = new Database(partial, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
      summary = inspect(copy, partial);
    } finally {
      copy.close();
    }
    const handle = await open(partial, 'r');
    await handle.sync().finally(() => handle.close());
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  return { dialect: 'sqlite', file, bytes: (await stat(file)).size, ...summary };
}

/**
 * Is anything using this database? A connection that asks for an exclusive lock cannot get it while another
 * connection (a runtime, even idle) has the database open in WAL mode.
 */
export function sqliteInUse(file: string): boolean {
  if (!existsSync(file)) return false;
  const probe = new Database(file, { fileMustExist: true, timeout: 0 });
  try {
    probe.pragma('locking_mode = EXCLUSIVE');
    probe.exec('BEGIN EXCLUSIVE');
    probe.exec('COMMIT');
    return false;
  } catch (error) {
    if ((error as { code?: string }).code === 'SQLITE_BUSY' || (error as { code?: string }).code === 'SQLITE_LOCKED') return true;
    throw error;
  } finally {
    probe.close();
  }
}

export async function restoreSqlite(file: string, target: string, options: { force: boolean }): Promise<RestoreSummary> {
  await checkMagic(file);
  // Everything about the backup is checked before the target is touched.
  const backup = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const { schemaVersion } = inspect(backup, file);
    const inUse = sqliteInUse(target);
    if (inUse && !options.force) {
      throw new RestoreRefused(`${target} is in use (a runtime or another program has it open): stop it first, or pass --force to restore under it (then restart it)`);
    }
    mkdirSync(path.dirname(target), { recursive: true });
    try {
      await backup.backup(target, { progress: () => PAGES_PER_STEP });
    } catch (error) {
      throw new Error(`restoring into ${target} failed, nothing was changed (SQLite rolled the copy back): ${(error as Error).message}`, { cause: error });
    }
    const restored = new Database(target, { fileMustExist: true });
    try {
      // The backup file is in rollback-journal mode; the runtime's database is WAL (the runtime sets it again at
      // start, so a runtime still connected under --force, which keeps this from switching now, changes nothing).
      try {
        restored.pragma('journal_mode = WAL');
      } catch {
        /* see above */
      }
      return { dialect: 'sqlite', from: file, into: target, ...inspect(restored, target), forced: inUse };
    } finally {
      restored.close();
    }
  } finally {
    backup.close();
  }
}

async function checkMagic(file: string): Promise<void> {
  const handle = await open(file, 'r').catch((error: NodeJS.ErrnoException) => {
    throw new RestoreRefused(`cannot read ${file}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  try {
    const head = Buffer.alloc(SQLITE_MAGIC.length);
    await handle.read(head, 0, head.length, 0);
    if (!head.equals(SQLITE_MAGIC)) throw new RestoreRefused(`${file} is not a SQLite backup (made by \`flowcrew backup\` with SQLite storage)`);
  } finally {
    await handle.close();
  }
}

/** Whole, a Flowcrew database, and of a schema this Flowcrew knows; with its row counts. */
function inspect(db: Database.Database, file: string): { schemaVersion: number; counts: Counts } {
  let problems: string[];
  try {
    problems = (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).filter((r) => r !== 'ok');
  } catch (error) {
    throw new RestoreRefused(`${file} is damaged: ${(error as Error).message}`);
  }
  if (problems.length > 0) throw new RestoreRefused(`${file} is damaged (SQLite integrity check: ${problems.slice(0, 3).join('; ')})`);
  const hasTable = (name: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;
  if (!hasTable('schema_migrations') || !hasTable('flows')) throw new RestoreRefused(`${file} is a SQLite database but not a Flowcrew one (no schema_migrations or flows table)`);
  const schemaVersion = Number((db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null }).v ?? 0);
  const known = MIGRATIONS.at(-1)?.version ?? 0;
  if (schemaVersion > known) throw new RestoreRefused(`${file} has schema version ${schemaVersion}, made by a newer Flowcrew than this one (${known}): upgrade Flowcrew first`);
  const count = (table: string) => (hasTable(table) ? Number((db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n) : null);
  return { schemaVersion, counts: { flows: count('flows') ?? 0, runs: count('runs') ?? 0, credentials: count('credentials') ?? 0, users: count('users') } };
}
