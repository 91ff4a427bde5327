/**
 * The one SQL implementation of `Storage`, shared by SQLite and PostgreSQL through a small driver interface
 * (sql-driver.ts). SQL is written once with `?` placeholders and portable constructs (INSERT ... ON CONFLICT, row
 * values, partial indexes); the drivers only adapt placeholders, types and transactions.
 *
 * Writes are group-committed (group-commit.ts). Flows are in flow-store.ts, run reads in run-reads.ts, the run writes'
 * statements in run-writes.ts; this file holds the rest (run writes, context, credentials) and the wiring.
 */
import { DEFAULT_MAX_DEPTH } from '../flow/json-depth.ts';
import { DEFAULT_PROJECT_ID, SqlFlowStore } from './flow-store.ts';
import { GroupCommit, type CommitObserver, type GroupCommitStats } from './group-commit.ts';
import { SqlIdentityStore } from './identity-sql.ts';
import { RunLeases, RunOutbox } from './leases.ts';
import type { IdentityStore } from './identity-types.ts';
import { migrate } from './migrations.ts';
import type { CompleteInvocation, CredentialRecord, InvocationRecord, MessageLimits, AcceptOptions, RunRecord, RunUpdate, Storage } from './types.ts';
import { jsonOrNull, num } from './row-values.ts';
import { ACTIVE_SQL, FINISHED_SQL, SqlRunReads } from './run-reads.ts';
import { acceptRunWrite, completeInvocationWrite, invocationInsertWrite, json, runUpdateWrite, type RunWrite } from './run-writes.ts';
import { deleteFinishedRuns, INSERT_CHUNK_ROWS } from './run-statements.ts';
import { CARRIED_COLUMN, CARRIED_INTERRUPTIONS, CarriedPending, StoredPending } from './stored-pending.ts';
import type { Row, SqlDialect, SqlDriver, SqlStatement, StatementResult } from './sql-driver.ts';
import { FlowVersionStore } from './versions.ts';

// Kept importable from here: most SQL stores and the drivers import these names from this module.
export type { Row, SqlDialect, SqlDriver, SqlParam, SqlStatement, SqlWriter, StatementResult } from './sql-driver.ts';
export type { GroupCommitStats } from './group-commit.ts';

const NO_LEASE: [null, null] = [null, null];
const PRUNE_CHUNK = 500;

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
  readonly stats: GroupCommitStats;
  /** Identity tables (identity-sql.ts), written through this storage's group-commit writer. */
  readonly identity: IdentityStore;
  /** Run ownership across processes (leases.ts); PostgreSQL only: an SQLite file has one runtime. */
  readonly leases: RunLeases | undefined;
  readonly outbox: RunOutbox | undefined;
  /** Every saved revision and deploy of each flow (versions.ts), written in the flow writes' own transactions. */
  readonly versions: FlowVersionStore;
  readonly limits: MessageLimits;
  private readonly writer: GroupCommit;
  /** Pending rows a queue worker read when it claimed their runs (run-writes.ts StoredPending). */
  private readonly storedPending = new StoredPending();
  /** Pending invocations carried in their run's row, as read by a claim or a resume here (stored-pending.ts). */
  private readonly carried = new CarriedPending();
  private readonly flows: SqlFlowStore;
  private readonly runReads: SqlRunReads;
  private closing: Promise<void> | null = null;

  constructor(
    readonly driver: SqlDriver,
    options: SqlStorageOptions,
  ) {
    this.dialect = driver.dialect;
    this.limits = options.limits ?? DEFAULT_MESSAGE_LIMITS;
    this.writer = new GroupCommit(driver, options.flush);
    this.stats = this.writer.stats;
    const write = <T>(statements: SqlStatement[], finish: (results: StatementResult[]) => T) => this.write(statements, finish);
    this.identity = new SqlIdentityStore(driver, write);
    this.leases = driver.dialect === 'postgres' ? new RunLeases(write, driver, this.storedPending, this.carried) : undefined;
    this.outbox = driver.dialect === 'postgres' ? new RunOutbox(driver, write, (kind, ids) => this.writer.writeLater(kind, ids)) : undefined;
    this.versions = new FlowVersionStore(driver, write);
    this.flows = new SqlFlowStore(driver, write);
    this.runReads = new SqlRunReads(driver, this.carried);
  }

  migrate(): Promise<void> {
    return migrate(this.driver);
  }

  /** One round trip to the database (readiness): rejects when it cannot be reached. */
  async ping(): Promise<void> {
    await this.driver.get('SELECT 1 AS ok');
  }

  /** Report every group-commit transaction (writes in it, seconds, success) to `observer`; null stops. */
  observeCommits(observer: CommitObserver | null): void {
    this.writer.observer = observer;
  }

  /** Writes made before close() keep their promises: the writer drains, then the database is closed. */
  close(): Promise<void> {
    this.closing ??= this.writer.drain().then(() => this.driver.close());
    return this.closing;
  }

  /** Queue a write on the group-commit writer; the promise settles when its transaction committed (or failed). */
  protected write<T>(statements: SqlStatement[], finish: (results: StatementResult[]) => T, run?: RunWrite): Promise<T> {
    return this.writer.write(statements, finish, run);
  }

  // ---- flows (flow-store.ts) ----
  listFlows(...a: Parameters<SqlFlowStore['listFlows']>) { return this.flows.listFlows(...a); }
  getFlow(...a: Parameters<SqlFlowStore['getFlow']>) { return this.flows.getFlow(...a); }
  saveFlow(...a: Parameters<SqlFlowStore['saveFlow']>) { return this.flows.saveFlow(...a); }
  saveFlows(...a: Parameters<SqlFlowStore['saveFlows']>) { return this.flows.saveFlows(...a); }
  setDeployed(...a: Parameters<SqlFlowStore['setDeployed']>) { return this.flows.setDeployed(...a); }
  deleteFlow(...a: Parameters<SqlFlowStore['deleteFlow']>) { return this.flows.deleteFlow(...a); }

  // ---- run reads (run-reads.ts) ----
  listResumableRuns(...a: Parameters<SqlRunReads['listResumableRuns']>) { return this.runReads.listResumableRuns(...a); }
  getRun(...a: Parameters<SqlRunReads['getRun']>) { return this.runReads.getRun(...a); }
  listRunTimings(...a: Parameters<SqlRunReads['listRunTimings']>) { return this.runReads.listRunTimings(...a); }
  listRuns(...a: Parameters<SqlRunReads['listRuns']>) { return this.runReads.listRuns(...a); }
  listInvocations(...a: Parameters<SqlRunReads['listInvocations']>) { return this.runReads.listInvocations(...a); }

  // ---------------------------------------------------------------------------------------------------------------
  // Runs: durable path
  // ---------------------------------------------------------------------------------------------------------------

  /** Not async: an UnstorableMessageError is thrown synchronously, before anything is queued (see Storage). */
  acceptRun(run: RunRecord, first: InvocationRecord[], options?: AcceptOptions): Promise<void> {
    const lease = this.leases?.forNewRun() ?? NO_LEASE;
    return this.write([], () => undefined, acceptRunWrite(run, first, this.limits, lease, options?.outbox ? RunOutbox.insert(run.id, run.createdAt) : undefined, options?.flowProject));
  }

  /** Finished invocations of a running node (its durable steps, steps.ts), through the writer; throws like acceptRun. */
  insertFinishedInvocations(records: readonly InvocationRecord[]): Promise<void> {
    return this.write([], () => undefined, invocationInsertWrite(records, this.limits));
  }

  /** Not async: an UnstorableMessageError is thrown synchronously, before anything is queued (see Storage). */
  completeInvocation(change: CompleteInvocation): Promise<void> {
    return this.write([], () => undefined, completeInvocationWrite(change, this.limits, this.storedPending, this.carried));
  }

  /** Not async, and no promise per hop: the executor's hops that do not end a run (see Storage.queueCompletion). */
  queueCompletion(change: CompleteInvocation, settled: (error?: unknown) => void): void {
    this.writer.enqueue(completeInvocationWrite(change, this.limits, this.storedPending, this.carried), settled);
  }

  /** See Storage.writerBehind (group-commit.ts). */
  writerBehind(): boolean {
    return this.writer.behind;
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

  async recordInterruptions(invocationIds: readonly string[]): Promise<void> {
    if (invocationIds.length === 0) return;
    const statements: SqlStatement[] = [];
    // Invocations carried in their run's row count there (runs.pending_interruptions), the others on their rows.
    const runs: string[] = [];
    const rows: string[] = [];
    for (const id of invocationIds) {
      const carried = this.carried.get(id);
      if (carried) {
        carried.interruptions++;
        runs.push(carried.runId);
      } else rows.push(id);
    }
    for (let i = 0; i < runs.length; i += INSERT_CHUNK_ROWS) {
      const chunk = runs.slice(i, i + INSERT_CHUNK_ROWS);
      statements.push({
        sql: `UPDATE runs SET ${CARRIED_INTERRUPTIONS} = ${CARRIED_INTERRUPTIONS} + 1 WHERE ${CARRIED_COLUMN} IS NOT NULL AND id IN (${chunk.map(() => '?').join(', ')})`,
        params: chunk,
      });
    }
    for (let i = 0; i < rows.length; i += INSERT_CHUNK_ROWS) {
      const chunk = rows.slice(i, i + INSERT_CHUNK_ROWS);
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
      // A run's first pending invocation carried in its row (stored-pending.ts CarriedPending) counts there.
      statements.push({
        sql: `UPDATE runs SET ${CARRIED_INTERRUPTIONS} = ${CARRIED_INTERRUPTIONS} - 1 WHERE ${CARRIED_COLUMN} IS NOT NULL AND id IN (${chunk.map(() => '?').join(', ')})`,
        params: chunk,
      });
    }
    return this.write(statements, () => undefined);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Runs: deletion
  // ---------------------------------------------------------------------------------------------------------------

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
    for (const row of rows) out[String(row.key)] = jsonOrNull(row.value);
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
