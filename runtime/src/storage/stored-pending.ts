/** A queue worker's pending rows as it read them (see StoredPending). */
import type { SqlParam } from './sql-driver.ts';
import { INV } from './run-compact.ts';

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
