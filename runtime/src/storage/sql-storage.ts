/**
 * The one SQL implementation of `Storage`, shared by SQLite and PostgreSQL through a small driver interface.
 * SQL is written once with `?` placeholders and portable constructs (INSERT ... ON CONFLICT, row values, partial
 * indexes); the drivers only adapt placeholders, types and transactions.
 *
 * Writes are group-committed: each write becomes a list of statements put on a queue, and a single writer runs
 * everything queued in ONE transaction. Every caller's promise settles once its own statements have committed.
 */
import { DEFAULT_MAX_DEPTH } from '../flow/json-depth.ts';
import type { FlowDocument } from '../flow/types.ts';
import { SqlIdentityStore } from './identity-sql.ts';
import { RunLeases, RunOutbox } from './leases.ts';
import type { IdentityStore } from './identity-types.ts';
import { migrate } from './migrations.ts';
import {
  InvocationNotPendingError,
  UnstorableMessageError,
  VersionConflictError,
  type CompleteInvocation,
  type CredentialRecord,
  type FlowSave,
  type MessageLimits,
  type InvocationRecord,
  type InvocationStatus,
  type OutputRecord,
  type ResumableRun,
  type RunFilter,
  type RunRecord,
  type RunStatus,
  type RunTiming,
  type RunUpdate,
  type Storage,
  type StoredFlow,
} from './types.ts';
import { num, numOrNull, strOrNull } from './row-values.ts';
import { acceptRunWrite, completeInvocationWrite, json, planBatch, runUpdateWrite, statementsOf, type RunWrite } from './run-writes.ts';
import { FlowVersionStore, VersionStatements } from './versions.ts';
import { flowContentHash } from '../versions/hash.ts';

export type SqlDialect = 'sqlite' | 'postgres';
export type SqlParam = string | number | bigint | null;
export type Row = Record<string, unknown>;

export interface SqlStatement {
  sql: string;
  params?: readonly SqlParam[];
  /**
   * Called by the driver right after the statement ran, INSIDE the transaction: throwing rolls the transaction
   * back (the writer then retries the batch's items one by one, so only this statement's item fails).
   */
  check?: (result: StatementResult) => void;
}

/** What running one statement of a batch produced: changed-row count, and rows for SELECT / RETURNING. */
export interface StatementResult {
  changes: number;
  rows: Row[];
}

export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** DDL or other parameterless SQL; may contain several statements. */
  exec(sql: string): Promise<void>;
  all(sql: string, params?: readonly SqlParam[]): Promise<Row[]>;
  get(sql: string, params?: readonly SqlParam[]): Promise<Row | undefined>;
  /**
   * Runs the statements in ONE transaction (all or nothing), calling each statement's `check` after it ran;
   * one result per statement, in order.
   */
  writeBatch(statements: readonly SqlStatement[]): Promise<StatementResult[]>;
  close(): Promise<void>;
}

export interface GroupCommitStats {
  /** Transactions committed or attempted by the writer (batches, plus one per item retried alone). */
  transactions: number;
  /** Write calls settled. */
  writes: number;
  /** Largest number of writes that shared one transaction. */
  largestBatch: number;
  /** Batches that failed and were retried item by item. */
  failedBatches: number;
}

/** Where flows, credentials and runs go when no project is named (the identity migration creates it). */
const DEFAULT_PROJECT_ID = 'default';
const ACTIVE_RUN: readonly RunStatus[] = ['queued', 'running', 'waiting'];
const FINISHED_RUN: readonly RunStatus[] = ['succeeded', 'failed', 'cancelled'];
const ACTIVE_SQL = sqlList(ACTIVE_RUN);
const NO_LEASE: [null, null] = [null, null];
const FINISHED_SQL = sqlList(FINISHED_RUN);

/** Caps so one flush stays a reasonably short transaction; the rest goes to the next flush. */
const MAX_BATCH_ITEMS = 1000;
const MAX_BATCH_STATEMENTS = 5000;
/** Rows per multi-row INSERT, well under SQLite's and PostgreSQL's bound-parameter limits. */
const INSERT_CHUNK_ROWS = 200;
const PRUNE_CHUNK = 500;
const DEFAULT_RUN_LIMIT = 50;
const MAX_RUN_LIMIT = 1000;

interface WriteItem {
  /** Plain statements; or, for the run path, rows the writer may coalesce with other run writes (run-writes.ts). */
  statements: SqlStatement[] | undefined;
  run?: RunWrite;
  /** Turns this item's statement results into its return value; may throw to reject only this caller. */
  finish: (results: StatementResult[]) => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

export interface SqlStorageOptions {
  /**
   * When the writer flushes: 'immediate' = on the next setImmediate (SQLite: synchronous commits, so this gathers the
   * writes made in the same event-loop turn); 'eager' = at once, and while a flush is in flight new writes accumulate
   * for the next one (PostgreSQL: commits are network round trips, so in-flight time is the batching window).
   */
  flush: 'immediate' | 'eager';
  /** Limits on stored messages (FLOWCREW_MAX_MESSAGE_BYTES, FLOWCREW_MAX_DEPTH); defaults: 16 MB, 128 levels. */
  limits?: MessageLimits;
}

export const DEFAULT_MESSAGE_LIMITS: MessageLimits = { maxBytes: 16 * 1024 * 1024, maxDepth: DEFAULT_MAX_DEPTH };

export class SqlStorage implements Storage {
  readonly dialect: SqlDialect;
  readonly stats: GroupCommitStats = { transactions: 0, writes: 0, largestBatch: 0, failedBatches: 0 };
  /** Identity tables (identity-sql.ts), written through this storage's group-commit writer. */
  readonly identity: IdentityStore;
  /** Run ownership across processes (leases.ts); PostgreSQL only: an SQLite file has one runtime. */
  readonly leases: RunLeases | undefined;
  readonly outbox: RunOutbox | undefined;
  /** Every saved revision and deploy of each flow (versions.ts), written in the flow writes' own transactions. */
  readonly versions: FlowVersionStore;
  private readonly limits: MessageLimits;

  private queue: WriteItem[] = [];
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private closed = false;
  private closing: Promise<void> | null = null;
  /** Metrics hook: told each transaction's size and duration (one call per batch, not per write). */
  private commitObserver: ((commit: { writes: number; seconds: number; ok: boolean }) => void) | null = null;

  constructor(
    readonly driver: SqlDriver,
    private readonly options: SqlStorageOptions,
  ) {
    this.dialect = driver.dialect;
    this.limits = options.limits ?? DEFAULT_MESSAGE_LIMITS;
    this.identity = new SqlIdentityStore(driver, (statements, finish) => this.write(statements, finish));
    this.leases = driver.dialect === 'postgres' ? new RunLeases((statements, finish) => this.write(statements, finish)) : undefined;
    this.outbox = driver.dialect === 'postgres' ? new RunOutbox(driver, (statements, finish) => this.write(statements, finish)) : undefined;
    this.versions = new FlowVersionStore(driver, (statements, finish) => this.write(statements, finish));
  }

  migrate(): Promise<void> {
    return migrate(this.driver);
  }

  /** One round trip to the database (readiness): rejects when it cannot be reached. */
  async ping(): Promise<void> {
    await this.driver.get('SELECT 1 AS ok');
  }

  /** Report every group-commit transaction (writes in it, seconds, success) to `observer`; null stops. */
  observeCommits(observer: ((commit: { writes: number; seconds: number; ok: boolean }) => void) | null): void {
    this.commitObserver = observer;
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        // Drain: the queue may refill while a flush runs (writes made before close() keep their promises).
        while (this.flushing || this.queue.length > 0) {
          if (this.flushing) await this.flushing;
          else await this.flush();
        }
        await this.driver.close();
      })();
    }
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Group commit
  // ---------------------------------------------------------------------------------------------------------------

  /** Queue a write; the promise settles when its transaction committed (or failed). */
  protected write<T>(statements: SqlStatement[], finish: (results: StatementResult[]) => T, run?: RunWrite): Promise<T> {
    if (this.closed) return Promise.reject(new Error('Storage is closed: the write was not performed.'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ statements: run ? undefined : statements, run, finish, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return; // a running flush picks the queue up when it ends
    this.scheduled = true;
    const run = () => {
      this.scheduled = false;
      void this.flush();
    };
    // Microtask for 'eager': still gathers every write issued synchronously in the current turn.
    if (this.options.flush === 'immediate') setImmediate(run);
    else queueMicrotask(run);
  }

  private flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = (async () => {
      try {
        while (this.queue.length > 0) {
          await this.flushOnce(this.takeBatch());
          // SQLite: yield to the event loop between batches so more writes can gather (and reads run).
          if (this.options.flush === 'immediate' && this.queue.length > 0) await new Promise((r) => setImmediate(r));
        }
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }

  private takeBatch(): WriteItem[] {
    let statements = 0;
    let n = 0;
    while (n < this.queue.length && n < MAX_BATCH_ITEMS) {
      const item = this.queue[n]!;
      statements += item.statements?.length ?? 1 + item.run!.invocations.length;
      n++;
      if (statements >= MAX_BATCH_STATEMENTS) break;
    }
    return this.queue.splice(0, n);
  }

  private async flushOnce(batch: WriteItem[]): Promise<void> {
    this.stats.largestBatch = Math.max(this.stats.largestBatch, batch.length);
    let results: StatementResult[];
    let plan: ReturnType<typeof planBatch>;
    const observer = this.commitObserver;
    const started = observer ? performance.now() : 0;
    try {
      this.stats.transactions++;
      plan = planBatch(batch);
      results = await this.driver.writeBatch(plan.statements);
      observer?.({ writes: batch.length, seconds: (performance.now() - started) / 1000, ok: true });
    } catch (error) {
      observer?.({ writes: batch.length, seconds: (performance.now() - started) / 1000, ok: false });
      if (batch.length === 1) {
        this.settle(batch[0]!, error);
        return;
      }
      // One bad write must not fail the others: redo each item in its own transaction.
      this.stats.failedBatches++;
      for (const item of batch) {
        try {
          this.stats.transactions++;
          const own = await this.driver.writeBatch(item.statements ?? statementsOf(item.run!));
          this.settle(item, undefined, own);
        } catch (itemError) {
          this.settle(item, itemError);
        }
      }
      return;
    }
    batch.forEach((item, i) => this.settle(item, undefined, results.slice(...plan.slices[i]!)));
  }

  private settle(item: WriteItem, error: unknown, results?: StatementResult[]): void {
    this.stats.writes++;
    if (error !== undefined || !results) {
      item.reject(error);
      return;
    }
    try {
      item.resolve(item.finish(results));
    } catch (finishError) {
      item.reject(finishError);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Flows
  // ---------------------------------------------------------------------------------------------------------------

  async listFlows(): Promise<StoredFlow[]> {
    const rows = await this.driver.all('SELECT * FROM flows ORDER BY LOWER(name), id');
    return rows.map(toStoredFlow);
  }

  async getFlow(id: string): Promise<StoredFlow | null> {
    const row = await this.driver.get('SELECT * FROM flows WHERE id = ?', [id]);
    return row ? toStoredFlow(row) : null;
  }

  async saveFlow(flow: FlowDocument, expectedVersion?: number, options: { projectId?: string } = {}): Promise<StoredFlow> {
    const now = Date.now();
    const projectId = options.projectId ?? DEFAULT_PROJECT_ID;
    // The version column is the truth; the document's own `version` is overwritten when read back.
    const document = JSON.stringify(flow);
    // An unchanged document (same content hash) updates nothing and creates no version.
    const hash = flowContentHash(flow);
    let change: SqlStatement;
    if (expectedVersion === undefined) {
      change = {
        sql: `INSERT INTO flows (id, name, version, document, deployed_version, created_at, updated_at, project_id, content_hash)
              VALUES (?, ?, 1, ?, NULL, ?, ?, ?, ?)
              ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = flows.version + 1,
                document = excluded.document, updated_at = excluded.updated_at, content_hash = excluded.content_hash
              WHERE flows.content_hash IS NULL OR flows.content_hash <> excluded.content_hash`,
        params: [flow.id, flow.name, document, now, now, projectId, hash],
      };
    } else if (expectedVersion === 0) {
      // Version 0 = "must not exist yet" (create without overwriting someone else's flow of the same id).
      change = {
        sql: `INSERT INTO flows (id, name, version, document, deployed_version, created_at, updated_at, project_id, content_hash)
              VALUES (?, ?, 1, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        params: [flow.id, flow.name, document, now, now, projectId, hash],
      };
    } else {
      // The WHERE on version makes the check atomic with the write, inside the transaction.
      change = {
        sql: `UPDATE flows SET name = ?, version = version + 1, document = ?, updated_at = ?, content_hash = ?
              WHERE id = ? AND version = ? AND (content_hash IS NULL OR content_hash <> ?)`,
        params: [flow.name, document, now, hash, flow.id, expectedVersion, hash],
      };
    }
    // Read back in the same transaction: the stored version, or the actual one for the conflict message.
    const readBack: SqlStatement = { sql: 'SELECT * FROM flows WHERE id = ?', params: [flow.id] };
    return this.write([change, VersionStatements.capture(flow.id), readBack], ([changed, , read]) => {
      const row = read!.rows[0];
      const unchanged = row && row.content_hash === hash && expectedVersion !== 0 && (expectedVersion === undefined || num(row.version) === expectedVersion);
      if ((changed!.changes === 0 && !unchanged) || !row) {
        throw new VersionConflictError(flow.id, expectedVersion ?? 0, row ? num(row.version) : 0);
      }
      return toStoredFlow(row);
    });
  }

  async setDeployed(id: string, version: number | null): Promise<void> {
    // Deploying snapshots the current document; the version guard refuses a revision that is no longer current.
    const statement: SqlStatement =
      version === null
        ? { sql: 'UPDATE flows SET deployed_version = NULL, deployed_document = NULL WHERE id = ?', params: [id] }
        : { sql: 'UPDATE flows SET deployed_version = version, deployed_document = document WHERE id = ? AND version = ?', params: [id, version] };
    return this.write([statement, VersionStatements.deployed(id, version), { sql: 'SELECT version FROM flows WHERE id = ?', params: [id] }], ([r, , read]) => {
      if (r!.changes > 0) return;
      const row = read!.rows[0];
      if (!row) throw new Error(`Cannot set the deployed version of flow "${id}": no such flow.`);
      throw new VersionConflictError(id, version ?? 0, num(row.version));
    });
  }

  async deleteFlow(id: string): Promise<boolean> {
    return this.write([{ sql: 'DELETE FROM flows WHERE id = ?', params: [id] }, ...VersionStatements.forget(id)], ([r]) => r!.changes > 0);
  }

  async saveFlows(saves: readonly FlowSave[], options: { deploy?: boolean } = {}): Promise<StoredFlow[]> {
    if (saves.length === 0) return [];
    const now = Date.now();
    const statements: SqlStatement[] = [];
    for (const { flow, expectedVersion, projectId = DEFAULT_PROJECT_ID } of saves) {
      const document = JSON.stringify(flow);
      const hash = flowContentHash(flow);
      let changes = 0;
      // Checked INSIDE the transaction: a conflict throws there, which rolls back every flow of the import.
      statements.push({
        ...(expectedVersion === 0
          ? {
              sql: `INSERT INTO flows (id, name, version, document, deployed_version, created_at, updated_at, project_id, content_hash)
                    VALUES (?, ?, 1, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
              params: [flow.id, flow.name, document, now, now, projectId, hash],
            }
          : {
              sql: 'UPDATE flows SET name = ?, version = version + 1, document = ?, updated_at = ?, content_hash = ? WHERE id = ? AND version = ?',
              params: [flow.name, document, now, hash, flow.id, expectedVersion],
            }),
        check: (result) => {
          changes = result.changes;
        },
      });
      statements.push(VersionStatements.capture(flow.id));
      if (options.deploy) {
        statements.push({ sql: 'UPDATE flows SET deployed_version = version, deployed_document = document WHERE id = ?', params: [flow.id] });
        statements.push(VersionStatements.deployed(flow.id, 'current', now));
      }
      statements.push({
        sql: 'SELECT * FROM flows WHERE id = ?',
        params: [flow.id],
        check: (result) => {
          const row = result.rows[0];
          if (changes === 0 || !row) throw new VersionConflictError(flow.id, expectedVersion, row ? num(row.version) : 0);
        },
      });
    }
    return this.write(statements, (results) => results.filter((_, i) => statements[i]!.sql.startsWith('SELECT')).map((r) => toStoredFlow(r.rows[0]!)));
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Runs: durable path
  // ---------------------------------------------------------------------------------------------------------------

  /** Not async: an UnstorableMessageError is thrown synchronously, before anything is queued (see Storage). */
  acceptRun(run: RunRecord, first: InvocationRecord[], options?: { outbox?: boolean }): Promise<void> {
    const lease = this.leases?.forNewRun() ?? NO_LEASE;
    return this.write([], () => undefined, acceptRunWrite(run, first, this.limits, lease, options?.outbox ? RunOutbox.insert(run.id, run.createdAt) : undefined));
  }

  /** Not async: an UnstorableMessageError is thrown synchronously, before anything is queued (see Storage). */
  completeInvocation(change: CompleteInvocation): Promise<void> {
    return this.write([], () => undefined, completeInvocationWrite(change, this.limits));
  }

  async updateRun(update: RunUpdate): Promise<void> {
    const write = runUpdateWrite(update);
    if (!write) return;
    return this.write([], () => undefined, write);
  }

  async cancelRun(runId: string, finishedAt: number): Promise<void> {
    return this.write(
      [
        {
          sql: `UPDATE invocations SET status = 'cancelled', finished_at = ? WHERE run_id = ? AND status = 'pending'`,
          params: [finishedAt, runId],
        },
        // A run that already finished keeps its outcome.
        {
          sql: `UPDATE runs SET status = 'cancelled', finished_at = ? WHERE id = ? AND status IN ${ACTIVE_SQL}`,
          params: [finishedAt, runId],
        },
      ],
      () => undefined,
    );
  }

  async listResumableRuns(filter: { runIds?: readonly string[] } = {}): Promise<ResumableRun[]> {
    if (filter.runIds?.length === 0) return [];
    // Only the given runs (those whose lease this process just took): values inlined by the driver's escaping.
    const only = filter.runIds ? ` AND r.id IN (${filter.runIds.map(() => '?').join(', ')})` : '';
    const ids = filter.runIds ?? [];
    const runs = await this.driver.all(`SELECT * FROM runs r WHERE r.status IN ${ACTIVE_SQL}${only} ORDER BY r.created_at, r.id`, ids);
    if (runs.length === 0) return [];
    const pending = await this.driver.all(
      `SELECT i.* FROM invocations i JOIN runs r ON r.id = i.run_id
       WHERE r.status IN ${ACTIVE_SQL}${only} AND i.status = 'pending' ORDER BY i.run_id, i.seq`,
      ids,
    );
    const maxSeqs = await this.driver.all(
      `SELECT i.run_id, MAX(i.seq) AS max_seq FROM invocations i JOIN runs r ON r.id = i.run_id
       WHERE r.status IN ${ACTIVE_SQL}${only} GROUP BY i.run_id`,
      ids,
    );
    const byRun = new Map<string, ResumableRun>();
    const result = runs.map((row) => {
      const entry: ResumableRun = { run: toRun(row), pending: [], maxSeq: 0 };
      byRun.set(entry.run.id, entry);
      return entry;
    });
    // A run whose status changed between the queries is simply absent from byRun.
    for (const row of pending) byRun.get(String(row.run_id))?.pending.push(toInvocation(row));
    for (const row of maxSeqs) {
      const entry = byRun.get(String(row.run_id));
      if (entry) entry.maxSeq = num(row.max_seq);
    }
    return result;
  }

  async recordInterruptions(invocationIds: readonly string[]): Promise<void> {
    if (invocationIds.length === 0) return;
    const statements: SqlStatement[] = [];
    for (let i = 0; i < invocationIds.length; i += INSERT_CHUNK_ROWS) {
      const chunk = invocationIds.slice(i, i + INSERT_CHUNK_ROWS);
      statements.push({
        sql: `UPDATE invocations SET interruptions = interruptions + 1 WHERE status = 'pending' AND id IN (${chunk.map(() => '?').join(', ')})`,
        params: chunk,
      });
    }
    return this.write(statements, () => undefined);
  }

  async recordCleanStop(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    const statements: SqlStatement[] = [];
    for (let i = 0; i < runIds.length; i += INSERT_CHUNK_ROWS) {
      const chunk = runIds.slice(i, i + INSERT_CHUNK_ROWS);
      statements.push({
        sql: `UPDATE invocations SET interruptions = interruptions - 1 WHERE status = 'pending' AND run_id IN (${chunk.map(() => '?').join(', ')})`,
        params: chunk,
      });
    }
    return this.write(statements, () => undefined);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Runs: history
  // ---------------------------------------------------------------------------------------------------------------

  async getRun(id: string): Promise<RunRecord | null> {
    const row = await this.driver.get('SELECT * FROM runs WHERE id = ?', [id]);
    return row ? toRun(row) : null;
  }

  /** Newest first. `before` is a keyset cursor; an unknown cursor id yields no rows. */
  async listRunTimings(since: number, limit: number): Promise<RunTiming[]> {
    const rows = await this.driver.all(
      'SELECT flow_id, status, created_at, started_at, finished_at FROM runs WHERE created_at >= ? ORDER BY created_at DESC LIMIT ?',
      [since, Math.max(1, Math.trunc(limit))],
    );
    return rows.map((row) => ({
      flowId: String(row.flow_id),
      status: String(row.status) as RunStatus,
      createdAt: num(row.created_at),
      startedAt: numOrNull(row.started_at),
      finishedAt: numOrNull(row.finished_at),
    }));
  }

  async listRuns(filter: RunFilter): Promise<RunRecord[]> {
    const where: string[] = [];
    const params: SqlParam[] = [];
    if (filter.flowId !== undefined) {
      where.push('flow_id = ?');
      params.push(filter.flowId);
    }
    if (filter.status !== undefined) {
      where.push('status = ?');
      params.push(filter.status);
    }
    if (filter.projectIds !== undefined) {
      where.push(filter.projectIds.length === 0 ? '1 = 0' : `project_id IN (${filter.projectIds.map(() => '?').join(', ')})`);
      params.push(...filter.projectIds);
    }
    if (filter.before !== undefined) {
      // (created_at, id) matches the ORDER BY, so pages neither skip nor repeat runs created in the same ms.
      where.push('(created_at, id) < (SELECT c.created_at, c.id FROM runs c WHERE c.id = ?)');
      params.push(filter.before);
    }
    const limit = Math.min(Math.max(Math.trunc(filter.limit ?? DEFAULT_RUN_LIMIT), 1), MAX_RUN_LIMIT);
    params.push(limit);
    const rows = await this.driver.all(
      `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      params,
    );
    return rows.map(toRun);
  }

  async listInvocations(runId: string): Promise<InvocationRecord[]> {
    const rows = await this.driver.all('SELECT * FROM invocations WHERE run_id = ? ORDER BY seq, id', [runId]);
    return rows.map(toInvocation);
  }

  /** Deletes the run and its invocations only if the run has finished (an active run is left alone). */
  async deleteRun(id: string): Promise<void> {
    return this.write(deleteFinishedRuns([id]), () => undefined);
  }

  async pruneRuns(olderThan: number): Promise<number> {
    let total = 0;
    // Chunks keep each transaction short so the writer never stalls other writes for long.
    for (;;) {
      const rows = await this.driver.all(
        `SELECT id FROM runs WHERE status IN ${FINISHED_SQL} AND created_at < ? ORDER BY created_at LIMIT ?`,
        [olderThan, PRUNE_CHUNK],
      );
      if (rows.length === 0) return total;
      const deleted = await this.write(deleteFinishedRuns(rows.map((r) => String(r.id))), (results) => results[1]!.changes);
      total += deleted;
      if (rows.length < PRUNE_CHUNK || deleted === 0) return total;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Context
  // ---------------------------------------------------------------------------------------------------------------

  async loadContext(scope: string): Promise<Record<string, unknown>> {
    const rows = await this.driver.all('SELECT key, value FROM context WHERE scope = ?', [scope]);
    const out: Record<string, unknown> = {};
    for (const row of rows) out[String(row.key)] = parseJson(row.value);
    return out;
  }

  /** Setting `undefined` deletes the key (as in Node-RED). */
  async setContext(scope: string, key: string, value: unknown): Promise<void> {
    const statement: SqlStatement =
      value === undefined
        ? { sql: 'DELETE FROM context WHERE scope = ? AND key = ?', params: [scope, key] }
        : {
            sql: `INSERT INTO context (scope, key, value) VALUES (?, ?, ?)
                  ON CONFLICT (scope, key) DO UPDATE SET value = excluded.value`,
            params: [scope, key, json(value, `context ${scope}/${key}`)],
          };
    return this.write([statement], () => undefined);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Credentials
  // ---------------------------------------------------------------------------------------------------------------

  async listCredentials(): Promise<CredentialRecord[]> {
    const rows = await this.driver.all('SELECT * FROM credentials ORDER BY LOWER(name), id');
    return rows.map(toCredential);
  }

  async getCredential(id: string): Promise<CredentialRecord | null> {
    const row = await this.driver.get('SELECT * FROM credentials WHERE id = ?', [id]);
    return row ? toCredential(row) : null;
  }

  /** Upsert; an update keeps the original createdAt. */
  async saveCredential(record: CredentialRecord): Promise<void> {
    return this.write(
      [
        {
          sql: `INSERT INTO credentials (id, name, type, data, created_at, updated_at, project_id) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, type = excluded.type, data = excluded.data,
                  updated_at = excluded.updated_at`,
          params: [record.id, record.name, record.type, record.data, record.createdAt, record.updatedAt, record.projectId ?? DEFAULT_PROJECT_ID],
        },
      ],
      () => undefined,
    );
  }

  async insertCredential(record: CredentialRecord): Promise<boolean> {
    return this.write(
      [
        {
          sql: `INSERT INTO credentials (id, name, type, data, created_at, updated_at, project_id) VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO NOTHING`,
          params: [record.id, record.name, record.type, record.data, record.createdAt, record.updatedAt, record.projectId ?? DEFAULT_PROJECT_ID],
        },
      ],
      ([r]) => r!.changes > 0,
    );
  }

  async deleteCredential(id: string): Promise<boolean> {
    return this.write([{ sql: 'DELETE FROM credentials WHERE id = ?', params: [id] }], ([r]) => r!.changes > 0);
  }

  async replaceCredentialData(id: string, expected: string, data: string): Promise<boolean> {
    return this.write([{ sql: 'UPDATE credentials SET data = ? WHERE id = ? AND data = ?', params: [data, id, expected] }], ([r]) => r!.changes > 0);
  }
}

// -----------------------------------------------------------------------------------------------------------------
// Statement builders
// -----------------------------------------------------------------------------------------------------------------

/** Invocations first, then runs; both guarded by the finished status so an active run is never half-deleted. */
function deleteFinishedRuns(ids: readonly string[]): SqlStatement[] {
  const marks = ids.map(() => '?').join(', ');
  return [
    {
      sql: `DELETE FROM invocations WHERE run_id IN (SELECT id FROM runs WHERE id IN (${marks}) AND status IN ${FINISHED_SQL})`,
      params: ids,
    },
    { sql: `DELETE FROM runs WHERE id IN (${marks}) AND status IN ${FINISHED_SQL}`, params: ids },
  ];
}

// -----------------------------------------------------------------------------------------------------------------
// Row mapping
// -----------------------------------------------------------------------------------------------------------------

function sqlList(values: readonly string[]): string {
  return `(${values.map((v) => `'${v}'`).join(', ')})`;
}

function parseJson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  return JSON.parse(String(value));
}

function toStoredFlow(row: Row): StoredFlow {
  const flow = parseJson(row.document) as FlowDocument;
  flow.id = String(row.id);
  flow.version = num(row.version);
  let deployedFlow: FlowDocument | null = null;
  if (row.deployed_document !== null && row.deployed_document !== undefined) {
    deployedFlow = parseJson(row.deployed_document) as FlowDocument;
    deployedFlow.id = String(row.id);
    deployedFlow.version = num(row.deployed_version);
  }
  return {
    flow,
    deployedFlow,
    deployedVersion: numOrNull(row.deployed_version),
    projectId: String(row.project_id),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}

function toRun(row: Row): RunRecord {
  return {
    id: String(row.id),
    flowId: String(row.flow_id),
    flowVersion: num(row.flow_version),
    status: String(row.status) as RunStatus,
    triggerNodeId: strOrNull(row.trigger_node_id),
    input: parseJson(row.input),
    error: strOrNull(row.error),
    parentRunId: strOrNull(row.parent_run_id),
    projectId: String(row.project_id),
    createdAt: num(row.created_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
  };
}

function toInvocation(row: Row): InvocationRecord {
  const usage = parseJson(row.usage) as InvocationRecord['usage'];
  const interruptions = row.interruptions === undefined || row.interruptions === null ? 0 : num(row.interruptions);
  return {
    id: String(row.id),
    runId: String(row.run_id),
    nodeId: String(row.node_id),
    nodeType: String(row.node_type),
    status: String(row.status) as InvocationStatus,
    attempt: num(row.attempt),
    input: parseJson(row.input),
    outputs: parseJson(row.outputs) as InvocationRecord['outputs'],
    error: strOrNull(row.error),
    parentId: strOrNull(row.parent_id),
    seq: num(row.seq),
    createdAt: num(row.created_at),
    startedAt: numOrNull(row.started_at),
    finishedAt: numOrNull(row.finished_at),
    // Absent rather than null when the node reported none, so records round-trip as written.
    ...(usage ? { usage } : {}),
    ...(interruptions !== 0 ? { interruptions } : {}),
  };
}

function toCredential(row: Row): CredentialRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    type: String(row.type),
    projectId: String(row.project_id),
    data: String(row.data),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}
