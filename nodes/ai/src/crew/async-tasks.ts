/**
 * CrewAI's `async_execution`: a task so marked starts and the crew goes on to the next task at once; the next task
 * that is not async waits for every async task started before it (their answers are in its context). An async
 * task with no `context` gets the answer of the last non-async task before it (as CrewAI gives it), since the
 * tasks beside it have not finished. Each async task is its own durable step as any task: after a crash the
 * finished ones are taken, the others run again.
 *
 * Tokens: tasks running at the same time each count their own calls (usageScope), so a step's token figure is its
 * own, not its neighbours'.
 */
import type { AgentEnvironment } from '../agents/agent.ts';
import type { TokenUsage } from '../providers/types.ts';
import type { StepMark } from './checkpoint.ts';
import type { Crew } from './crew.ts';

/** Async tasks under way; `drain` waits for all of them and then fails with the first failure, if any. */
export class ConcurrentTasks {
  private running: Array<Promise<void>> = [];

  start(work: () => Promise<void>): void {
    const task = work();
    // Handled at drain: a failure while the crew awaits something else is no unhandled rejection.
    task.catch(() => undefined);
    this.running.push(task);
  }

  async drain(): Promise<void> {
    if (this.running.length === 0) return;
    // Every task ends (and stores its step) before a failure is passed on, so none is left running.
    const settled = await Promise.allSettled(this.running);
    this.running = [];
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/**
 * An environment that counts its own tokens (and passes them on to `env`), and a clock over them: what one task
 * spends, whatever runs beside it.
 */
export function usageScope(crew: Crew, env: AgentEnvironment): { crew: Crew; env: AgentEnvironment; usage: TokenUsage } {
  const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
  const counted: AgentEnvironment = {
    ...env,
    recordUsage(u) {
      usage.promptTokens += u.promptTokens ?? 0;
      usage.completionTokens += u.completionTokens ?? 0;
      env.recordUsage(u);
    },
  };
  const clock = () => {
    const at = Date.now();
    const { promptTokens, completionTokens } = usage;
    return (): StepMark => ({ at, usage: { promptTokens: usage.promptTokens - promptTokens, completionTokens: usage.completionTokens - completionTokens } });
  };
  return { crew: { ...crew, clock }, env: counted, usage };
}

/** CrewAI's rules for async tasks, as problems: [task key, message]. */
export function asyncTaskProblems(tasks: Array<{ key: string; asyncExecution?: boolean; context?: string[] }>): Array<[string, string]> {
  const problems: Array<[string, string]> = [];
  let trailing = 0;
  for (const task of tasks) trailing = task.asyncExecution ? trailing + 1 : 0;
  if (trailing > 1) {
    const last = tasks.slice(-trailing).map((t) => `"${t.key}"`);
    problems.push([tasks.at(-1)!.key, `the crew ends with ${trailing} async tasks (${last.join(', ')}); as in CrewAI it may end with at most one, so its answer is the crew's`]);
  }
  // An async task cannot take context from the async tasks running beside it (started right before it).
  let beside: string[] = [];
  for (const task of tasks) {
    if (!task.asyncExecution) {
      beside = [];
      continue;
    }
    const clash = (task.context ?? []).filter((key) => beside.includes(key));
    if (clash.length) problems.push([task.key, `async task "${task.key}" takes context from ${clash.map((k) => `"${k}"`).join(', ')}, an async task still running beside it: make one of them not async, or drop it from the context`]);
    beside.push(task.key);
  }
  return problems;
}
