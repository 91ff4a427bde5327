/**
 * One task at a time per key: a task for a key starts after the previous one for that key settled (whatever its
 * outcome). Deploys of one flow in one process go through this (queue/worker.ts, cluster/deploy-sync.ts): two
 * overlapping deploys of the same revision made it twice, and the second closed the first's nodes under runs
 * already going on them. Git operations of one project too (git/service.ts).
 */
export class OneAtATime {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const next = (this.tails.get(key) ?? Promise.resolve()).catch(() => undefined).then(task);
    this.tails.set(key, next);
    const forget = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }
}
