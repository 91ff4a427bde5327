/**
 * The delay node's rate limit (pauseType "rate"): one message per `spacing` ms, the first at once, queued in arrival
 * order (`msg.toFront` jumps the queue) or, with `drop`, dropped when too soon. The queue's order, the spacing and
 * when the last message left are kept in the node's context. A restart replays the invocations that were waiting
 * here: each takes its old place again, and the spacing counts from the last message sent before the restart.
 */
import type { FlowMessage, InputContext, NodeOutput } from '@flowcrew/sdk';
import { invocationKey, type KeptState } from '../sequence/kept-state.ts';
import { cancelled, isBareFlush, RESTORE_GRACE_MS, type Holding, type Waiter } from './delay-holding.ts';

interface Queued {
  waiter: Waiter;
  inv: string;
  /** Position in the queue: restored entries below 0 (in their old order), new ones from 0 on. */
  rank: number;
}

/** As kept in context (JSON has no -Infinity: null is "nothing sent yet"). */
interface RateKept {
  lastSent: number | null;
  spacing: number;
  order: string[];
}

const KEY = 'rate';

export class RateQueue {
  private spacing: number;
  private lastSent = Number.NEGATIVE_INFINITY;
  private pump: NodeJS.Timeout | undefined;
  private readonly queue: Queued[] = [];
  /** Invocations queued here before a restart and not replayed yet, with their old rank. */
  private readonly restored = new Map<string, number>();
  private readonly graceUntil = Date.now() + RESTORE_GRACE_MS;
  private graceTimer: NodeJS.Timeout | undefined;
  private nextRank = 0;
  private closing = false;

  constructor(
    private readonly fixedSpacing: number,
    private readonly options: { drop: boolean; allowRate: boolean; dropOutput: (msg: FlowMessage) => NodeOutput },
    private readonly holding: Holding,
    private readonly kept: KeptState,
  ) {
    this.spacing = fixedSpacing;
    const before = kept.get(KEY) as RateKept | undefined;
    if (!before) return;
    this.lastSent = before.lastSent ?? Number.NEGATIVE_INFINITY;
    if (options.allowRate) this.spacing = before.spacing;
    before.order.forEach((inv, i) => this.restored.set(inv, i - before.order.length));
    if (this.restored.size > 0) {
      this.graceTimer = setTimeout(() => this.forgetRestored(), RESTORE_GRACE_MS);
      this.graceTimer.unref();
    }
  }

  async handle(msg: FlowMessage, ctx: InputContext): Promise<NodeOutput> {
    const newRate = Number.parseFloat(String(msg.rate));
    if (this.options.allowRate && 'rate' in msg && !Number.isNaN(newRate) && newRate !== this.spacing) {
      this.spacing = newRate;
      this.restartPump();
      this.save();
    }
    if ('reset' in msg) {
      for (const entry of this.queue.splice(0)) entry.waiter.release(false);
      this.restored.clear();
      this.lastSent = Number.NEGATIVE_INFINITY;
      this.spacing = this.fixedSpacing;
      this.restartPump();
      this.save();
      return null;
    }
    if (this.options.drop) {
      const now = Date.now();
      if (now - this.lastSent <= this.spacing) return this.options.dropOutput(msg);
      this.lastSent = now;
      this.save();
      return msg;
    }
    const { flush, ...rest } = msg;
    let held: Promise<boolean> | undefined;
    if (!isBareFlush(msg)) {
      const signal = ctx.signal;
      if (signal.aborted) throw cancelled(signal);
      const inv = invocationKey(ctx);
      const { promise, waiter } = this.holding.hold(signal);
      const rank = this.restored.get(inv) ?? (msg.toFront === true ? Math.min(0, ...this.queue.map((q) => q.rank), ...this.restored.values()) - 1 : this.nextRank++);
      this.restored.delete(inv);
      const entry: Queued = { waiter, inv, rank };
      const at = this.queue.findIndex((q) => q.rank > rank);
      if (at < 0) this.queue.push(entry);
      else this.queue.splice(at, 0, entry);
      // A cancelled message gives up its place (Holding has already rejected it).
      signal.addEventListener('abort', () => this.remove(entry), { once: true });
      held = promise;
      this.restartPump();
      this.save();
    }
    if ('flush' in msg) {
      const count = typeof flush === 'number' ? Math.min(Math.floor(flush), this.queue.length) : this.queue.length;
      for (const entry of this.queue.splice(0, count)) entry.waiter.release(true);
      // Node-RED restarts its interval after a flush: the next queued message waits a full spacing.
      if (count > 0) this.lastSent = Date.now();
      this.restartPump();
      this.save();
    }
    if (!held) return null;
    return (await held) ? rest : null;
  }

  close(): void {
    // What is queued stays in context for the next instance; the waiters themselves are failed by the node.
    this.closing = true;
    clearTimeout(this.pump);
    clearTimeout(this.graceTimer);
    this.queue.length = 0;
  }

  private remove(entry: Queued): void {
    const at = this.queue.indexOf(entry);
    if (at < 0) return;
    this.queue.splice(at, 1);
    this.save();
  }

  private releaseNext(): void {
    if (this.pump || this.closing) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      let wait = this.lastSent + this.spacing - Date.now();
      // A message that was ahead of the head before the restart may still be on its way back: keep its turn.
      if (this.restored.size > 0 && [...this.restored.values()].some((rank) => rank < head.rank)) wait = Math.max(wait, this.graceUntil - Date.now());
      if (wait > 0) {
        this.pump = setTimeout(() => {
          this.pump = undefined;
          this.releaseNext();
        }, wait);
        return;
      }
      this.lastSent = Date.now();
      this.queue.shift();
      head.waiter.release(true);
      this.save();
    }
  }

  private restartPump(): void {
    clearTimeout(this.pump);
    this.pump = undefined;
    this.releaseNext();
  }

  /** Restored invocations that did not come back (failed by a redeploy, cancelled) lose their place. */
  private forgetRestored(): void {
    if (this.restored.size === 0 || this.closing) return;
    this.restored.clear();
    this.save();
    this.restartPump();
  }

  private save(): void {
    if (this.closing) return;
    const ranked = [...this.queue.map((q) => [q.rank, q.inv] as const), ...[...this.restored].map(([inv, rank]) => [rank, inv] as const)];
    const order = ranked.sort((a, b) => a[0] - b[0]).map(([, inv]) => inv);
    const kept: RateKept = { lastSent: Number.isFinite(this.lastSent) ? this.lastSent : null, spacing: this.spacing, order };
    this.kept.set(KEY, kept);
  }
}
