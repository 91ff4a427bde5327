/**
 * Questions a run waits on (migration 8, table `waits`). One row per question: asked by a node through
 * ctx.waitForInput, answered once (by a person, a signed link, or the timeout), then delivered to the node when its
 * invocation runs again. Every state change is ONE conditional UPDATE, so two answers (two tabs, a link and the
 * editor, two runtimes sharing PostgreSQL) cannot both win.
 */
import type { WaitAnswer, WaitRequest } from '@flowcrew/sdk';
import type { Row, SqlDialect, SqlDriver, SqlStatement } from '../storage/sql-storage.ts';
import { jsonOrNull, num, numOrNull, strOrNull } from '../storage/row-values.ts';

export type WaitStatus = 'open' | 'answered' | 'timed_out' | 'cancelled';

export interface WaitRecord {
  /** `<invocation id>:<key>`: the same question asked again (node re-invoked) finds its row. */
  id: string;
  runId: string;
  invocationId: string;
  flowId: string;
  nodeId: string;
  projectId: string;
  status: WaitStatus;
  request: WaitRequest;
  /** Who may answer now (the request's assignees, plus the escalation's once escalated). */
  assignees: { users: string[]; roles: string[] };
  answer: unknown;
  answeredBy: string | null;
  answeredVia: WaitAnswer['via'] | null;
  createdAt: number;
  expiresAt: number | null;
  escalateAt: number | null;
  escalatedAt: number | null;
  answeredAt: number | null;
  /** When the node received the answer (null: still to be resumed). */
  deliveredAt: number | null;
}

export function waitingMigration(_dialect: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS waits (
      id TEXT PRIMARY KEY,
      run_id TEXT NOT NULL,
      invocation_id TEXT NOT NULL,
      flow_id TEXT NOT NULL,
      node_id TEXT NOT NULL,
      project_id TEXT NOT NULL,
      status TEXT NOT NULL,
      request TEXT NOT NULL,
      assignees TEXT NOT NULL,
      answer TEXT,
      answered_by TEXT,
      answered_via TEXT,
      created_at BIGINT NOT NULL,
      expires_at BIGINT,
      escalate_at BIGINT,
      escalated_at BIGINT,
      answered_at BIGINT,
      delivered_at BIGINT
    )`,
    `CREATE INDEX IF NOT EXISTS waits_run ON waits (run_id)`,
    `CREATE INDEX IF NOT EXISTS waits_open ON waits (project_id, created_at) WHERE status = 'open'`,
    `CREATE INDEX IF NOT EXISTS waits_due ON waits (expires_at) WHERE status = 'open'`,
    `CREATE INDEX IF NOT EXISTS waits_undelivered ON waits (run_id) WHERE status IN ('answered', 'timed_out') AND delivered_at IS NULL`,
  ];
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export class WaitStore {
  constructor(private readonly driver: SqlDriver) {}

  /** Insert the question unless it exists; true when this call created it. */
  async insert(record: WaitRecord): Promise<boolean> {
    const [result] = await this.driver.writeBatch([
      {
        sql: `INSERT INTO waits (id, run_id, invocation_id, flow_id, node_id, project_id, status, request, assignees, created_at, expires_at, escalate_at)
              VALUES (?, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        params: [
          record.id,
          record.runId,
          record.invocationId,
          record.flowId,
          record.nodeId,
          record.projectId,
          JSON.stringify(record.request),
          JSON.stringify(record.assignees),
          record.createdAt,
          record.expiresAt,
          record.escalateAt,
        ],
      },
    ]);
    return (result?.changes ?? 0) > 0;
  }

  async get(id: string): Promise<WaitRecord | null> {
    const row = await this.driver.get('SELECT * FROM waits WHERE id = ?', [id]);
    return row ? toWait(row) : null;
  }

  /** Open questions, oldest first (the service filters by what the actor may see). */
  async listOpen(filter: { runId?: string; limit?: number } = {}): Promise<WaitRecord[]> {
    const where = filter.runId ? ' AND run_id = ?' : '';
    const rows = await this.driver.all(`SELECT * FROM waits WHERE status = 'open'${where} ORDER BY created_at, id LIMIT ${Math.min(filter.limit ?? 500, 1000)}`, filter.runId ? [filter.runId] : []);
    return rows.map(toWait);
  }

  async listForRun(runId: string): Promise<WaitRecord[]> {
    return (await this.driver.all('SELECT * FROM waits WHERE run_id = ? ORDER BY created_at, id', [runId])).map(toWait);
  }

  /** open → answered/timed_out, once. False when it was not open any more (answered, timed out or cancelled meanwhile). */
  async close(id: string, outcome: { status: 'answered' | 'timed_out'; answer: unknown; by: string | null; via: WaitAnswer['via']; at: number }): Promise<boolean> {
    return this.changed({
      sql: `UPDATE waits SET status = ?, answer = ?, answered_by = ?, answered_via = ?, answered_at = ? WHERE id = ? AND status = 'open'`,
      params: [outcome.status, json(outcome.answer), outcome.by, outcome.via, outcome.at, id],
    });
  }

  async markDelivered(id: string, at: number): Promise<void> {
    await this.driver.writeBatch([{ sql: 'UPDATE waits SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL', params: [at, id] }]);
  }

  /** Escalate once: widen who may answer. False when already escalated or no longer open. */
  async escalate(id: string, assignees: WaitRecord['assignees'], at: number): Promise<boolean> {
    return this.changed({ sql: `UPDATE waits SET assignees = ?, escalated_at = ? WHERE id = ? AND status = 'open' AND escalated_at IS NULL`, params: [JSON.stringify(assignees), at, id] });
  }

  /** Every still-open question of a run closes as cancelled (the run was cancelled or failed). */
  async cancelRun(runId: string, at: number): Promise<number> {
    const [result] = await this.driver.writeBatch([{ sql: `UPDATE waits SET status = 'cancelled', answered_at = ? WHERE run_id = ? AND status = 'open'`, params: [at, runId] }]);
    return result?.changes ?? 0;
  }

  /** Open questions whose timeout (or escalation) time has come. */
  async due(now: number): Promise<{ expired: WaitRecord[]; escalate: WaitRecord[] }> {
    const expired = await this.driver.all(`SELECT * FROM waits WHERE status = 'open' AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY expires_at LIMIT 200`, [now]);
    const escalate = await this.driver.all(`SELECT * FROM waits WHERE status = 'open' AND escalated_at IS NULL AND escalate_at IS NOT NULL AND escalate_at <= ? ORDER BY escalate_at LIMIT 200`, [now]);
    return { expired: expired.map(toWait), escalate: escalate.map(toWait) };
  }

  /** Runs parked in status 'waiting' whose question was answered (or timed out) but not yet delivered: to resume. */
  async answeredWaitingRuns(): Promise<string[]> {
    const rows = await this.driver.all(
      `SELECT DISTINCT w.run_id FROM waits w JOIN runs r ON r.id = w.run_id
       WHERE w.status IN ('answered', 'timed_out') AND w.delivered_at IS NULL AND r.status = 'waiting' LIMIT 200`,
    );
    return rows.map((r) => String(r.run_id));
  }

  /** Runs in status 'waiting' that hold a question not yet delivered: a start must leave them parked (they resume when answered). */
  async parkedRuns(): Promise<Set<string>> {
    const rows = await this.driver.all(
      `SELECT DISTINCT w.run_id FROM waits w JOIN runs r ON r.id = w.run_id WHERE w.delivered_at IS NULL AND w.status <> 'cancelled' AND r.status = 'waiting'`,
    );
    return new Set(rows.map((r) => String(r.run_id)));
  }

  /**
   * Claim a parked run for resuming: waiting → running, once (single winner across processes). With leases, the
   * claimer becomes its owner.
   */
  async claimRun(runId: string, lease: [string | null, number | null]): Promise<boolean> {
    const [owner, expires] = lease;
    const sql = owner
      ? { sql: `UPDATE runs SET status = 'running', owner = ?, lease_expires_at = ? WHERE id = ? AND status = 'waiting'`, params: [owner, expires, runId] }
      : { sql: `UPDATE runs SET status = 'running' WHERE id = ? AND status = 'waiting'`, params: [runId] };
    return this.changed(sql);
  }

  private async changed(statement: SqlStatement): Promise<boolean> {
    const [result] = await this.driver.writeBatch([statement]);
    return (result?.changes ?? 0) > 0;
  }
}

function toWait(row: Row): WaitRecord {
  return {
    id: String(row.id),
    runId: String(row.run_id),
    invocationId: String(row.invocation_id),
    flowId: String(row.flow_id),
    nodeId: String(row.node_id),
    projectId: String(row.project_id),
    status: String(row.status) as WaitStatus,
    request: jsonOrNull(row.request) as WaitRequest,
    assignees: jsonOrNull(row.assignees) as WaitRecord['assignees'],
    answer: jsonOrNull(row.answer),
    answeredBy: strOrNull(row.answered_by),
    answeredVia: strOrNull(row.answered_via) as WaitAnswer['via'] | null,
    createdAt: num(row.created_at),
    expiresAt: numOrNull(row.expires_at),
    escalateAt: numOrNull(row.escalate_at),
    escalatedAt: numOrNull(row.escalated_at),
    answeredAt: numOrNull(row.answered_at),
    deliveredAt: numOrNull(row.delivered_at),
  };
}
