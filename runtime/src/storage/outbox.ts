/** The run outbox of queue mode (see RunOutbox). */
import type { SqlDriver } from './sql-driver.ts';
import type { SqlStatement } from './sql-storage.ts';
import type { LaterKind } from './group-commit.ts';
import { CHUNK, type Writer } from './leases.ts';

/** A write that may wait (GroupCommit.writeLater). */
export type LaterWriter = (kind: LaterKind, ids: readonly string[]) => Promise<void>;

/** Outbox rows of runs handed over: every hand-over's since the writer's last transaction, ONE statement per 500 rows. */
const OUTBOX_DELETES: LaterKind = {
  statements(ids) {
    const unique = [...new Set(ids)];
    const statements: SqlStatement[] = [];
    for (let i = 0; i < unique.length; i += CHUNK) {
      const chunk = unique.slice(i, i + CHUNK);
      statements.push({ sql: `DELETE FROM run_outbox WHERE run_id IN (${chunk.map(() => '?').join(', ')})`, params: chunk });
    }
    return statements;
  },
  // Far below the sweep's 5 s (a row older than that is enqueued again): on a busy main the next acceptances' commit
  // comes first; an idle main deletes after this long in a transaction of its own.
  maxDelayMs: 100,
};

const outboxInserts = new Map<number, string>();
/** The outbox INSERT of `rows` rows (built once per count). */
function outboxInsertSql(rows: number): string {
  let sql = outboxInserts.get(rows);
  if (sql === undefined) outboxInserts.set(rows, (sql = `INSERT INTO run_outbox (run_id, created_at) VALUES ${Array(rows).fill('(?, ?)').join(', ')} ON CONFLICT (run_id) DO NOTHING`));
  return sql;
}

/**
 * A group commit's statements that go with its run writes (run-writes.ts): the acceptances' single-row outbox INSERTs
 * become ONE multi-row INSERT (rows in their order), ahead of any other such statement, which is left as it is. One
 * INSERT per acceptance was most of a busy queue-mode main's statements per transaction (session 11).
 */
export function coalesceOutboxInserts(statements: readonly SqlStatement[]): SqlStatement[] {
  const single = outboxInsertSql(1);
  const rows = statements.filter((s) => s.sql === single);
  if (rows.length < 2) return [...statements];
  const merged: SqlStatement = { sql: outboxInsertSql(rows.length), params: rows.flatMap((s) => s.params ?? []) };
  return [merged, ...statements.filter((s) => s.sql !== single)];
}

/**
 * The transactional outbox (queue mode): a run accepted by a main is recorded here in the run's own transaction, and
 * a relay hands it to the queue only after that commit, then removes the row. A relay dying between the two hands it
 * over again: the queue deduplicates by run id, and a worker only runs a run it can lease (storage decides, not Redis).
 */
export class RunOutbox {
  constructor(
    private readonly driver: Pick<SqlDriver, 'all' | 'writeBatch'>,
    private readonly write: Writer,
    /** Outbox deletes that wait for the writer's next transaction (GroupCommit.writeLater); without: written at once. */
    private readonly later?: LaterWriter,
  ) {}

  static insert(runId: string, createdAt: number): SqlStatement {
    return { sql: outboxInsertSql(1), params: [runId, createdAt] };
  }

  /** Up to `limit` runs waiting to be enqueued, oldest first; only those accepted before `olderThan` (epoch ms) if given. */
  async pending(limit: number, olderThan = Number.MAX_SAFE_INTEGER): Promise<Array<{ runId: string; createdAt: number }>> {
    const rows = await this.driver.all('SELECT run_id, created_at FROM run_outbox WHERE created_at < ? ORDER BY created_at, run_id LIMIT ?', [olderThan, limit]);
    return rows.map((row) => ({ runId: String(row.run_id), createdAt: Number(row.created_at) }));
  }

  /**
   * Queue mode: a parked run whose question was answered goes back to the workers — waiting → queued, nobody's, with
   * an outbox row, in one transaction (a main never executes it). False when it was not parked (already resumed,
   * cancelled): one answerer wins.
   */
  requeueParked(runId: string, now = Date.now()): Promise<boolean> {
    return this.write(
      [
        { sql: `UPDATE runs SET status = 'queued', owner = NULL, lease_expires_at = NULL WHERE id = ? AND status = 'waiting' RETURNING id`, params: [runId] },
        { sql: `INSERT INTO run_outbox (run_id, created_at) SELECT id, ? FROM runs WHERE id = ? AND status = 'queued' ON CONFLICT (run_id) DO NOTHING`, params: [now, runId] },
      ],
      (results) => results[0]!.rows.length > 0,
    );
  }

  /**
   * These runs are in the queue now: their rows go, through the group-commit writer, so on a busy main the delete
   * rides in the next acceptances' transaction instead of a transaction of its own per hand-over (session 11: a
   * transaction, a round trip and a commit record fewer per hand-over; sessions 9-10 deleted beside the writer,
   * committed without waiting for the WAL flush). Since session 13 a delete also waits for that transaction when the
   * writer is idle or busy with an earlier one (at most OUTBOX_DELETES.maxDelayMs), and the deletes of all hand-overs
   * meanwhile are one statement: before, ~40 % of a busy main's transactions only deleted outbox rows, each committed
   * synchronously. A delete lost in a crash only enqueues its runs again (the sweep), which a worker's lease makes
   * harmless.
   */
  async remove(runIds: readonly string[]): Promise<void> {
    if (runIds.length === 0) return;
    if (this.later) return this.later(OUTBOX_DELETES, runIds);
    await this.write(OUTBOX_DELETES.statements(runIds), () => undefined);
  }
}
