/** A queue worker's pending rows as it read them (see StoredPending). */
import type { SqlParam } from './sql-driver.ts';
import { INV } from './run-compact.ts';

/** Pending rows remembered at most (a run lost before its first completion leaves its rows here until pushed out). */
const STORED_PENDING_MAX = 20_000;

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

  remember(row: SqlParam[]): void {
    if (this.rows.size >= STORED_PENDING_MAX) this.rows.delete(this.rows.keys().next().value!);
    this.rows.set(String(row[INV.id]), row);
  }

  /** The row of this invocation, forgotten here (a completion uses it once). */
  take(id: string): SqlParam[] | undefined {
    if (this.rows.size === 0) return undefined;
    const row = this.rows.get(id);
    if (row) this.rows.delete(id);
    return row;
  }
}
