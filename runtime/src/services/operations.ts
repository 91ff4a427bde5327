/**
 * Liveness and readiness, for load balancers and orchestrators (Kubernetes probes, compose healthchecks). Both are
 * public: a probe carries no credentials. Liveness only says the process answers; readiness says it can serve:
 * storage answers within a timeout, the deployed flows were loaded at start, and interrupted runs were resumed.
 * Why a check failed (an error text may name a database host) is shown to instance admins only.
 */
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { queueCheck, type QueueCheck } from '../queue/health.ts';

/** A storage that does not answer a `SELECT 1` within this is "not ready": the instance should get no traffic. */
export const READY_STORAGE_TIMEOUT_MS = 2000;

export interface ReadyCheck {
  ok: boolean;
  /** What it found (admins see error texts; others the state only). */
  detail?: string;
}

export interface Readiness {
  status: 'ready' | 'not ready';
  checks: { storage: ReadyCheck & { ms?: number }; flows: ReadyCheck & { deployed: number }; resume: ReadyCheck & { state: string }; queue?: QueueCheck };
}

export class OperationsService {
  constructor(
    private readonly runtime: Runtime,
    private readonly storageTimeoutMs = READY_STORAGE_TIMEOUT_MS,
  ) {}

  live(): { status: 'ok'; uptimeSeconds: number } {
    return { status: 'ok', uptimeSeconds: Math.round((Date.now() - this.runtime.startedAt) / 1000) };
  }

  async ready(actor: Actor | null): Promise<Readiness> {
    const admin = actor?.instanceRole === 'admin';
    const storage = await this.pingStorage(admin);
    const { startup } = this.runtime;
    const flows: Readiness['checks']['flows'] = { ok: startup.flowsLoaded, deployed: this.runtime.executor.deployedFlows };
    // A flow that cannot deploy (a missing pack) does not take the instance out of service: the others still run,
    // and the log and the flow's own state say why. Admins see which.
    if (admin && startup.undeployable.length > 0) flows.detail = `could not be deployed at start: ${startup.undeployable.join(', ')}`;
    // 'failed' is finished too: the runs stay stored and resume at the next start; the storage check says more.
    const resume = { ok: startup.resume === 'done' || startup.resume === 'failed', state: startup.resume };
    // Queue mode: Redis reachable, and the backlog (queue/health.ts).
    const queue = this.runtime.queue ? await queueCheck(this.runtime.queue, admin) : undefined;
    const ok = storage.ok && flows.ok && resume.ok && (queue?.ok ?? true);
    return { status: ok ? 'ready' : 'not ready', checks: { storage, flows, resume, ...(queue ? { queue } : {}) } };
  }

  private async pingStorage(admin: boolean): Promise<Readiness['checks']['storage']> {
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.runtime.storage.ping(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${this.storageTimeoutMs} ms`)), this.storageTimeoutMs);
        }),
      ]);
      return { ok: true, ms: Math.round((performance.now() - started) * 10) / 10 };
    } catch (error) {
      return { ok: false, detail: admin ? `${this.runtime.storage.dialect}: ${(error as Error).message}` : 'storage unreachable' };
    } finally {
      clearTimeout(timer);
    }
  }
}
