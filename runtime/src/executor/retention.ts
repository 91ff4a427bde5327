/**
 * Per-run retention at the run's end: a flow (or the runtime) keeping no history, or only failed runs, deletes a
 * finished run right away. Age-based pruning of the rest is storage/retention.ts.
 */
import type { RunStatus } from '../storage/types.ts';
import type { ActiveRun, ExecutorHub } from './types.ts';

/** Whether a run ending with `status` keeps its history (the flow's retention setting, else the runtime's). */
export function keepsHistory(hub: ExecutorHub, run: ActiveRun, status: RunStatus): boolean {
  const mode = run.flow.flow.settings?.retention ?? hub.options.retention.mode;
  return mode === 'all' || (mode === 'failed' && status !== 'succeeded');
}

export function applyRetention(hub: ExecutorHub, run: ActiveRun): void {
  // Already deleted (or never written) with the run's last completion (dispatch.ts).
  if (run.historyDiscarded || keepsHistory(hub, run, run.record.status)) return;
  hub.options.storage.deleteRun(run.record.id).catch((error: unknown) => hub.runLog(run).warn(`retention: could not delete run ${run.record.id}: ${(error as Error).message}`));
}
