/** SQLite storage (the default): better-sqlite3, WAL journal, one file in the data dir. */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { MessageLimits } from './types.ts';
import { WalCheckpointer } from './sqlite-checkpoint.ts';
import { SqlStorage, type Row, type SqlDriver, type SqlParam, type SqlStatement, type StatementResult } from './sql-storage.ts';

export interface SqliteOptions {
  /** Database file, or ':memory:'. */
  filename: string;
  /**
   * NORMAL (default): in WAL mode a commit survives a process crash, and only a power loss / OS crash can lose the
   * last transactions (never corrupt the file). FULL: fsync on every commit, also safe against power loss.
   */
  synchronous?: 'NORMAL' | 'FULL';
  /** How long to wait for a lock held by another connection before failing with SQLITE_BUSY. */
  busyTimeoutMs?: number;
  /** Limits on stored messages (see SqlStorageOptions). */
  limits?: MessageLimits;
  /**
   * Where WAL checkpoints run: 'worker' (default for a file) = a worker thread copies the WAL back after commits, the
   * main connection only the rest when the WAL reaches 1,000 pages (sqlite-checkpoint.ts); 'inline' = SQLite's auto-checkpoint,
   * inside the commit that fills 1,000 pages, on the event loop.
   */
  checkpoint?: 'worker' | 'inline';
}

export const SQLITE_FILENAME = 'flowcrew.db';

export function sqliteFileIn(dataDir: string): string {
  return join(dataDir, SQLITE_FILENAME);
}

/** Bytes per page of a new database file (see the constructor). */
export const PAGE_SIZE = 16384;

/** Prepared statements are reused across calls; the cap bounds memory as batch sizes vary the SQL text. */
const STATEMENT_CACHE_SIZE = 1000;

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement<unknown[]>>();
  private readonly runBatch: (statements: readonly SqlStatement[]) => StatementResult[];
  /** Off-loop WAL checkpoints (a file database with checkpoint 'worker'). */
  readonly checkpointer: WalCheckpointer | undefined;

  constructor(options: SqliteOptions) {
    if (options.filename !== ':memory:') mkdirSync(dirname(options.filename), { recursive: true });
    try {
      this.db = new Database(options.filename);
    } catch (error) {
      throw new Error(`Cannot open the SQLite database ${options.filename}: ${(error as Error).message}`, { cause: error });
    }
    // 16 KB pages for a new database (an existing one keeps its page size: SQLite changes it only before the first
    // table, or by a VACUUM outside WAL mode). A finished run's row holds its compact history (run-compact.ts), 2-8 KB
    // for a 10-node run: with 4 KB pages each such row spilled into an overflow page, so every run wrote two or more
    // pages. Measured on run rows of 4.2 KB: 32-35 µs CPU per row with 4 KB pages, 22-23 µs with 16 KB (bench/README.md).
    this.db.pragma(`page_size = ${PAGE_SIZE}`);
    this.db.pragma('journal_mode = WAL'); // readers never block the writer; ignored (stays 'memory') for :memory:
    this.db.pragma(`synchronous = ${options.synchronous === 'FULL' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    // 8 MB page cache (default 2 MB). It was 64 MB: it filled up under load (+62 MB RSS after 20,000 webhook runs)
    // while the chain's CPU per node was the same at 2, 16 and 64 MB (bench/README.md, session 7): writes append and
    // reads come from the OS page cache cheaply.
    this.db.pragma('cache_size = -8192');
    const batch = this.db.transaction((statements: readonly SqlStatement[]) =>
      statements.map((statement) => {
        const prepared = this.prepare(statement.sql);
        const params = bind(statement.params);
        const result: StatementResult = prepared.reader
          ? { changes: 0, rows: prepared.all(...params) as Row[] }
          : { changes: prepared.run(...params).changes, rows: [] };
        statement.check?.(result);
        return result;
      }),
    );
    // IMMEDIATE takes the write lock up front, so another process cannot make us fail on a lock upgrade.
    this.runBatch = (statements) => batch.immediate(statements);
    this.checkpointer =
      options.filename !== ':memory:' && (options.checkpoint ?? 'worker') === 'worker' ? new WalCheckpointer(this.db, options.filename) : undefined;
  }

  async exec(sql: string): Promise<void> {
    this.db.exec(sql);
  }

  async all(sql: string, params?: readonly SqlParam[]): Promise<Row[]> {
    return this.prepare(sql).all(...bind(params)) as Row[];
  }

  async get(sql: string, params?: readonly SqlParam[]): Promise<Row | undefined> {
    return this.prepare(sql).get(...bind(params)) as Row | undefined;
  }

  async writeBatch(statements: readonly SqlStatement[]): Promise<StatementResult[]> {
    const results = this.runBatch(statements);
    this.checkpointer?.committed();
    return results;
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    // The worker's connection closes first, so this one is the last: SQLite then checkpoints and removes the WAL.
    await this.checkpointer?.close();
    if (!this.db.open) return;
    this.statements.clear();
    this.db.close();
  }

  private prepare(sql: string): Database.Statement<unknown[]> {
    let statement = this.statements.get(sql);
    if (!statement) {
      // Bounded cache; evicting the oldest entry is enough, since the hot statements are few and re-prepared at once.
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

function bind(params: readonly SqlParam[] | undefined): unknown[] {
  // better-sqlite3 rejects undefined and booleans; callers are typed, this guards the untyped edges.
  return params ? params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p)) : [];
}

/** A SQLite-backed Storage (not migrated yet: call `migrate()`, or use `openStorage`). */
export function createSqliteStorage(options: SqliteOptions): SqlStorage {
  return new SqlStorage(new SqliteDriver(options), { flush: 'immediate', limits: options.limits });
}
