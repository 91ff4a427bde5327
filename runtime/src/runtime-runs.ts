/**
 * The runtime's run operations (runtime.ts delegates to them): start, re-run, read, cancel and wait for runs, and the
 * dashboard figures. No HTTP in here.
 */
import type { FlowMessage } from '@flowcrew/sdk';
import { notFound, ProblemError } from './errors.ts';
import type { EventFanout } from './executor/events.ts';
import { CannotStartRunError, type Executor } from './executor/executor.ts';
import { UnstorableMessageError, type InvocationRecord, type RunFilter, type RunRecord, type Storage } from './storage/types.ts';
import type { WaitingRuns } from './waiting/waiting.ts';

/** Nearest-rank percentile; null for no data. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export class RuntimeRuns {
  constructor(
    private readonly storage: Storage,
    private readonly executor: Executor,
    private readonly events: EventFanout,
    /** Read when used: the runtime sets `waiting` after it is constructed. */
    private readonly host: { readonly waiting?: WaitingRuns },
  ) {}

  async startRun(flowId: string, body: { input?: FlowMessage; nodeId?: string } = {}): Promise<{ runId: string }> {
    if (!(await this.storage.getFlow(flowId))) throw notFound(`flow "${flowId}"`);
    if (!this.executor.isDeployed(flowId)) throw new ProblemError(409, 'Flow not deployed', `flow "${flowId}" is not deployed: deploy it before running it`);
    const input = body.input ?? {};
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ProblemError(400, 'Invalid input', 'input must be a message object, e.g. {"payload": ...}', [{ pointer: '/input', message: 'must be an object' }]);
    }
    try {
      const { runId } = await this.executor.runNow(flowId, input, { nodeId: body.nodeId });
      return { runId };
    } catch (error) {
      if (error instanceof CannotStartRunError) throw new ProblemError(422, 'Cannot start run', error.message, body.nodeId ? [{ pointer: '/nodeId', message: error.message }] : []);
      if (error instanceof UnstorableMessageError) throw new ProblemError(422, 'Invalid input', error.message, [{ pointer: '/input', message: error.detail }]);
      throw error;
    }
  }

  /** Start a new run of the same flow with a past run's original input. */
  async rerun(id: string): Promise<{ runId: string }> {
    const past = await this.storage.getRun(id);
    if (!past) throw notFound(`run "${id}"`);
    if (!this.executor.isDeployed(past.flowId)) throw new ProblemError(409, 'Flow not deployed', `flow "${past.flowId}" is not deployed: deploy it before re-running`);
    try {
      const { runId } = await this.executor.rerun(past);
      return { runId };
    } catch (error) {
      if (error instanceof CannotStartRunError) throw new ProblemError(422, 'Cannot re-run', error.message);
      throw error;
    }
  }

  listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return this.storage.listRuns(filter);
  }

  async getRun(id: string): Promise<RunRecord & { invocations: InvocationRecord[] }> {
    const run = await this.storage.getRun(id);
    if (!run) throw notFound(`run "${id}"`);
    return { ...run, invocations: await this.storage.listInvocations(id) };
  }

  async cancelRun(id: string): Promise<RunRecord> {
    const cancelled = await this.executor.cancel(id);
    if (cancelled) return cancelled;
    if (await this.host.waiting?.cancelParked(id)) return (await this.storage.getRun(id))!;
    const run = await this.storage.getRun(id);
    if (!run) throw notFound(`run "${id}"`);
    throw new ProblemError(409, 'Run not active', `run "${id}" is ${run.status}; only queued, running or waiting runs can be cancelled`);
  }

  /** Resolves when the run reaches a final state (used by the CLI's one-shot run and tests). */
  waitForRun(runId: string, timeoutMs = 60_000): Promise<RunRecord> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`run ${runId} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.events.add({
        runFinished: (run) => {
          if (run.id !== runId) return;
          clearTimeout(timer);
          off();
          resolve(run);
        },
      });
      // It may have finished before we listened.
      void this.storage.getRun(runId).then((run) => {
        if (run && ['succeeded', 'failed', 'cancelled'].includes(run.status)) {
          clearTimeout(timer);
          off();
          resolve(run);
        }
      });
    });
  }

  /**
   * Dashboard figures per minute over the last `minutes`: runs, failures, p95 duration; and active flows. With
   * `only`, just the flows it accepts count (a member sees their projects' figures; active runs are then those of
   * the window still unfinished).
   */
  async stats(minutes: number, only?: (flowId: string) => boolean) {
    const to = Date.now();
    const from = to - minutes * 60_000;
    const every = await this.storage.listRunTimings(from, 200_000);
    const timings = only ? every.filter((t) => only(t.flowId)) : every;
    const firstMinute = Math.floor(from / 60_000) * 60_000;
    const buckets = Array.from({ length: minutes + 1 }, (_, i) => ({ at: firstMinute + i * 60_000, runs: 0, failed: 0, durations: [] as number[] }));
    const all: number[] = [];
    let failed = 0;
    for (const t of timings) {
      const bucket = buckets[Math.floor((t.createdAt - firstMinute) / 60_000)];
      if (!bucket) continue;
      bucket.runs++;
      if (t.status === 'failed') {
        bucket.failed++;
        failed++;
      }
      if (t.startedAt !== null && t.finishedAt !== null) {
        bucket.durations.push(t.finishedAt - t.startedAt);
        all.push(t.finishedAt - t.startedAt);
      }
    }
    return {
      from,
      to,
      buckets: buckets.map((b) => ({ at: b.at, runs: b.runs, failed: b.failed, p95Ms: percentile(b.durations, 0.95) })),
      totals: { runs: timings.length, failed, p95Ms: percentile(all, 0.95) },
      activeFlows: only ? (await this.storage.listFlows()).filter((f) => only(f.flow.id) && this.executor.isDeployed(f.flow.id)).length : this.executor.deployedFlows,
      activeRuns: only ? timings.filter((t) => t.status === 'queued' || t.status === 'running' || t.status === 'waiting').length : this.executor.activeRuns,
    };
  }
}
