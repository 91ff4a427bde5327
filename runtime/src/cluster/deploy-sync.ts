/**
 * Deploys across mains (queue mode) and across embedded runtimes sharing PostgreSQL: a flow deployed or undeployed on
 * one is deployed or undeployed on every other, so each serves its webhooks and the elected leader runs its cron. The
 * runtime that deployed announces the flow on a channel (Redis pub/sub in queue mode, PostgreSQL LISTEN/NOTIFY
 * without Redis: cluster/channel.ts); the others read the stored deployed revision and apply it. The announcement can arrive before
 * the deploying main has stored the new revision, so a peer that sees no change looks again a few times; a full
 * reconciliation when the channel reconnects, and on a slow beat, heals lost messages and deploys made while a main was down.
 */
import type { Logger } from '@flowcrew/sdk';
import type { Redis } from 'ioredis';
import type { Executor } from '../executor/executor.ts';
import { validateFlowAsync } from '../flow/validate.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import type { Storage } from '../storage/types.ts';
import { isHiddenSubflowFlow } from '../subflows/definition.ts';
import { RedisChannel, type AnnouncementChannel } from './channel.ts';
import { OneAtATime } from '../one-at-a-time.ts';
import type { RedisNames } from './redis-names.ts';

const RECHECKS = 6;
const RECHECK_MS = 250;
const RECONCILE_MS = 30_000;

/** Queue mode: the Redis channel on the queue's publisher and subscriber connections. */
export function redisDeployChannel(publisher: Redis, subscriber: Redis, names: RedisNames): AnnouncementChannel {
  return new RedisChannel(names.deploys, { publisher, subscriber });
}

export interface DeploySyncOptions {
  instance: string;
  channel: AnnouncementChannel;
  storage: Storage;
  executor: Executor;
  registry: NodeRegistry;
  log: Logger;
  maxDepth?: number;
}

export class DeploySync {
  private timer: NodeJS.Timeout | undefined;
  /** Flows this main is applying from a peer's announcement: not announced again. */
  private readonly applying = new Set<string>();
  /** Reconciliations in progress, one at a time per flow (see reconcile). */
  private readonly reconciling = new OneAtATime();
  private readonly detach: () => void;
  private closed = false;
  readonly stats = { announced: 0, applied: 0 };

  constructor(private readonly options: DeploySyncOptions) {
    this.detach = options.executor.deployer.onDeployChange((flowId) => this.announce(flowId));
  }

  async start(): Promise<void> {
    await this.options.channel.listen(
      (text) => {
        try {
          const { instance, flowId } = JSON.parse(text) as { instance: string; flowId: string };
          if (instance !== this.options.instance) void this.follow(flowId);
        } catch {
          // not ours
        }
      },
      // Announcements made while the channel was down are lost: catch up with the stored deploys at once.
      () => void this.reconcileAll(),
    );
    this.timer = setInterval(() => void this.reconcileAll(), RECONCILE_MS);
    this.timer.unref();
  }

  private announce(flowId: string): void {
    if (this.applying.has(flowId) || this.closed || isHiddenSubflowFlow(flowId)) return;
    this.stats.announced++;
    void this.options.channel
      .publish(JSON.stringify({ instance: this.options.instance, flowId }))
      .catch((e: unknown) => this.options.log.warn(`deploy sync: could not announce flow "${flowId}" (the other mains pick it up within ${RECONCILE_MS / 1000} s): ${(e as Error).message}`));
  }

  /** A peer deployed or undeployed `flowId`: apply the stored state, looking again while it has not changed yet. */
  private async follow(flowId: string): Promise<void> {
    for (let i = 0; i < RECHECKS && !this.closed; i++) {
      if (await this.reconcile(flowId)) return;
      await new Promise((resolve) => setTimeout(resolve, RECHECK_MS));
    }
  }

  /**
   * Make this main's deployment of `flowId` match storage; true when something changed. One at a time per flow (an
   * announcement and the periodic reconciliation can overlap): two overlapping ones both saw the old revision and
   * deployed the new one twice, the second closing the first's nodes under runs already going on them.
   */
  private reconcile(flowId: string): Promise<boolean> {
    return this.reconciling.run(flowId, () => this.reconcileNow(flowId));
  }

  private async reconcileNow(flowId: string): Promise<boolean> {
    const { storage, executor, registry, log } = this.options;
    // Sub-flow versions are deployed by the library on every process (packs/library-sync.ts), never stored as flows.
    if (isHiddenSubflowFlow(flowId)) return false;
    const stored = await storage.getFlow(flowId);
    const want = stored?.deployedFlow ?? null;
    const have = executor.deployed.get(flowId)?.flow.version;
    if (want === null && have === undefined) return false;
    if (want !== null && want.version === have) return false;
    this.applying.add(flowId);
    try {
      if (want === null) await executor.undeploy(flowId);
      else {
        const { valid, issues, flow } = await validateFlowAsync(want, registry, { maxDepth: this.options.maxDepth });
        if (!valid) throw new Error(issues.map((i) => `${i.pointer}: ${i.message}`).join('; '));
        await executor.deploy(flow);
      }
      this.stats.applied++;
      log.info(`deploy sync: flow "${flowId}" ${want === null ? 'undeployed' : `revision ${want.version} deployed`} here as on another main`);
    } catch (error) {
      log.error(`deploy sync: flow "${flowId}" could not follow another main's deploy: ${(error as Error).message}`);
    } finally {
      this.applying.delete(flowId);
    }
    return true;
  }

  private async reconcileAll(): Promise<void> {
    try {
      const ids = new Set([...(await this.options.storage.listFlows()).map((s) => s.flow.id), ...this.options.executor.deployed.keys()]);
      for (const id of ids) if (!this.closed) await this.reconcile(id);
    } catch (error) {
      this.options.log.warn(`deploy sync: reconciliation failed: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.detach();
    this.options.channel.close();
  }
}
