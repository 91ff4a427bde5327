/**
 * Per-run retention at the run's end: a flow (or the runtime) keeping no history, or only failed runs, deletes a
 * finished run right away. Age-based pruning of the rest is storage/retention.ts.
 */
import type { ActiveRun, ExecutorHub } from './types.ts';

export function applyRetention(hub: ExecutorHub, run: ActiveRun): void {
  const mode = run.flow.flow.settings?.retention ?? hub.options.retention.mode;
  if (mode === 'all' || (mode === 'failed' && run.record.status !== 'succeeded')) return;
  hub.options.storage.deleteRun(run.record.id).catch((error: unknown) => hub.runLog(run).warn(`retention: could not delete run ${run.record.id}: ${(error as Error).message}`));
}
