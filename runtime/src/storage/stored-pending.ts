/** A queue worker's pending rows as it read them (see StoredPending). */
import type { SqlDialect, SqlParam } from './sql-driver.ts';
import { INV } from './run-compact.ts';

/** The run row's carried pending invocation (compact form, run-compact.ts) and its interruptions (migration 20). */
export const CARRIED_COLUMN = 'pending_json';
export const CARRIED_INTERRUPTIONS = 'pending_interruptions';
/** Prefix of a carried invocation's text whose input is its run's input (not repeated: run-writes.ts encodeCarried). */
export const CARRIED_RUN_INPUT = '=';

export function carriedPendingMigration(dialect: SqlDialect): string[] {
  const add = `ALTER TABLE runs ADD COLUMN ${dialect === 'postgres' ? 'IF NOT EXISTS ' : ''}`;
  return [`${add}${CARRIED_COLUMN} TEXT`, `${add}${CARRIED_INTERRUPTIONS} INTEGER NOT NULL DEFAULT 0`];
}

/**
 * What is remembered at most: a run lost before its first completion here (its lease taken over, parked on a question,
 * given back for want of a slot) leaves its rows until the oldest are pushed out. Counted in rows and in the bytes of
 * their inputs; a row with a larger input than ROW_MAX_CHARS is not kept (its completion is the plain UPDATE).
 */
const MAX_ROWS = 20_000;
const MAX_CHARS = 16 * 1024 * 1024;
const ROW_MAX_CHARS = 64 * 1024;

/**
 * Pending invocation rows as a queue worker read them when it claimed their runs (leases.ts claimToRun), INVOCATION_COLUMNS
 * order, JSON as stored. A completion of one of them in a group commit that also finishes its run is not written as an
 * UPDATE of the row (a new row version with an entry in each index of invocations, and a statement planned per run):
 * the completed invocation goes into the run's compact history with the others of that commit (run-compact.ts), and
 * the pending rows of all such runs go in ONE DELETE (session 13). The main's acceptance wrote the row; a webhook run
 * then finishes in one commit of its worker, so this is the completion of nearly every queued run.
 */
export class StoredPending {
  private readonly rows = new Map<string, SqlParam[]>();
  /** Characters of the kept rows' inputs. */
  private chars = 0;

  remember(row: SqlParam[]): void {
    const size = inputChars(row);
    if (size > ROW_MAX_CHARS) return;
    const id = String(row[INV.id]);
    this.forget(id);
    while (this.rows.size > 0 && (this.rows.size >= MAX_ROWS || this.chars + size > MAX_CHARS)) this.forget(this.rows.keys().next().value!);
    this.rows.set(id, row);
    this.chars += size;
  }

  /** The row of this invocation, forgotten here (a completion uses it once). */
  take(id: string): SqlParam[] | undefined {
    if (this.rows.size === 0) return undefined;
    const row = this.rows.get(id);
    if (row) this.forget(id);
    return row;
  }

  private forget(id: string): void {
    const row = this.rows.get(id);
    if (!row) return;
    this.rows.delete(id);
    this.chars -= inputChars(row);
  }
}

function inputChars(row: SqlParam[]): number {
  const input = row[INV.input];
  return typeof input === 'string' ? input.length : 0;
}

/**
 * Carried invocations remembered at most. Only those of runs in flight here are needed (a worker's claimed batch, a
 * start-up's resumed runs); one pushed out before its completion (a run taken over by another process leaves its entry
 * until then) completes as a plain row UPDATE, which fails (InvocationNotPendingError): the run is then taken over
 * after its lease, its carried invocation intact.
 */
const MAX_CARRIED = 50_000;

export interface CarriedEntry {
  runId: string;
  interruptions: number;
  /** The pending invocation as carried (INVOCATION_COLUMNS order, JSON as text). */
  row: SqlParam[];
}

/**
 * Pending invocations carried in their run's row (`runs.pending_json`, session 15: a queued run's first pending
 * invocation, run-writes.ts carryFirst) as this process read them (a worker's claim: leases.ts claimToRun; a resume:
 * run-reads.ts listResumableRuns), with the interruptions counted so far (`runs.pending_interruptions`). Their
 * completion and interruption count are writes of the RUN row (a completion clears `pending_json`, only while still
 * set and the run active), never of an invocation row, which does not exist.
 */
export class CarriedPending {
  private readonly byId = new Map<string, CarriedEntry>();

  remember(entry: CarriedEntry): void {
    const id = String(entry.row[INV.id]);
    this.byId.delete(id);
    if (this.byId.size >= MAX_CARRIED) this.byId.delete(this.byId.keys().next().value!);
    this.byId.set(id, entry);
  }

  /** The entry of a carried invocation, or undefined for an invocation stored as a row. */
  get(id: string): CarriedEntry | undefined {
    return this.byId.size === 0 ? undefined : this.byId.get(id);
  }

  /** Forgotten once consumed (a completion). */
  take(id: string): CarriedEntry | undefined {
    if (this.byId.size === 0) return undefined;
    const entry = this.byId.get(id);
    if (entry) this.byId.delete(id);
    return entry;
  }
}
