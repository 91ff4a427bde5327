/**
 * The delay node's per-topic modes (Node-RED's pauseType "queue" and "timed"): messages wait in a queue that holds
 * at most one message per topic (a newer message of a topic replaces the one waiting, which is dropped or sent on
 * output 2); every interval, "queue" releases the oldest topic's message, "timed" releases all of them.
 * The queue's order is kept in the node's context: the invocations a restart replays take their old places again,
 * and an interval does not release past a place whose message is still on its way back (for a few seconds).
 */
import type { FlowMessage, InputContext, NodeOutput } from '@flowcrew/sdk';
import { invocationKey, type KeptState } from '../sequence/kept-state.ts';
import { RESTORE_GRACE_MS } from './delay-holding.ts';

type Outcome = 'send' | 'drop' | 'replaced';

interface Entry {
  msg: FlowMessage;
  settle(outcome: Outcome): void;
  fail(error: Error): void;
  inv: string;
  /** Restored entries below 0 (their old order), new ones from 0 on. */
  rank: number;
}

const KEY = 'topics';

export class TopicQueue {
  private entries: Entry[] = [];
  private timer: NodeJS.Timeout;
  /** Invocations queued before a restart and not replayed yet, with their old rank. */
  private readonly restored = new Map<string, number>();
  private readonly graceUntil = Date.now() + RESTORE_GRACE_MS;
  private nextRank = 0;
  private closing = false;

  constructor(
    private spacing: number,
    private readonly fixedSpacing: number,
    private readonly releaseAll: boolean,
    private readonly twoOutputs: boolean,
    private readonly allowRate: boolean,
    private readonly onDepth: (count: number) => void,
    private readonly kept: KeptState,
  ) {
    const order = (kept.get(KEY) as string[] | undefined) ?? [];
    order.forEach((inv, i) => this.restored.set(inv, i - order.length));
    this.timer = this.arm();
  }

  private save(): void {
    if (this.closing) return;
    // Restored places not replayed yet are forgotten after the grace time (their runs were failed or cancelled).
    if (this.restored.size > 0 && Date.now() >= this.graceUntil) this.restored.clear();
    const ranked = [...this.entries.map((e) => [e.rank, e.inv] as const), ...[...this.restored].map(([inv, rank]) => [rank, inv] as const)];
    this.kept.set(KEY, ranked.sort((a, b) => a[0] - b[0]).map(([, inv]) => inv));
  }

  /** Node-RED ticks from deploy on, whether messages wait or not. */
  private arm(): NodeJS.Timeout {
    const timer = setInterval(() => this.tick(), this.spacing);
    timer.unref();
    return timer;
  }

  private tick(): void {
    const head = this.entries[0];
    if (head && this.restored.size > 0 && Date.now() < this.graceUntil && [...this.restored.values()].some((rank) => rank < head.rank)) return;
    const released = this.releaseAll ? this.entries.splice(0) : this.entries.splice(0, 1);
    for (const entry of released) entry.settle('send');
    if (released.length > 0 || this.restored.size > 0) {
      this.onDepth(this.entries.length);
      this.save();
    }
  }

  /** Queue `msg` (replacing a waiting message of its topic) and apply flush/reset; resolves with what leaves for it. */
  async handle(msg: FlowMessage, ctx: InputContext): Promise<NodeOutput> {
    const signal = ctx.signal;
    const inv = invocationKey(ctx);
    const rate = Number.parseFloat(String(msg.rate));
    if (this.allowRate && 'rate' in msg && !Number.isNaN(rate) && rate !== this.spacing) {
      this.spacing = rate;
      clearInterval(this.timer);
      this.timer = this.arm();
    }
    if (!('topic' in msg)) msg.topic = '_none_';
    const outcome = new Promise<Outcome>((resolve, reject) => {
      const rank = this.restored.get(inv) ?? this.nextRank++;
      this.restored.delete(inv);
      const entry: Entry = {
        msg,
        inv,
        rank,
        settle: (o) => (signal.removeEventListener('abort', onAbort), resolve(o)),
        fail: (error) => (signal.removeEventListener('abort', onAbort), reject(error)),
      };
      const onAbort = () => {
        const at = this.entries.indexOf(entry);
        if (at >= 0) this.entries.splice(at, 1);
        this.save();
        reject(signal.reason instanceof Error ? signal.reason : new Error('delay cancelled'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const same = this.entries.findIndex((e) => e.msg.topic === msg.topic);
      if (same >= 0) {
        // The newer message takes the older one's place in the queue.
        entry.rank = this.entries[same]!.rank;
        this.entries[same]!.settle('replaced');
        this.entries[same] = entry;
      } else {
        const at = this.entries.findIndex((e) => e.rank > rank);
        if (at < 0) this.entries.push(entry);
        else this.entries.splice(at, 0, entry);
      }
    });
    if ('flush' in msg) {
      const count = typeof msg.flush === 'number' ? Math.min(Math.floor(msg.flush), this.entries.length) : this.entries.length;
      for (const entry of this.entries.splice(0, count)) {
        delete entry.msg.flush;
        delete entry.msg.reset;
        // A bare control message (only _msgid, topic and flush) is not itself sent, as in Node-RED.
        entry.settle(Object.keys(entry.msg).some((k) => k !== '_msgid' && k !== 'topic') ? 'send' : 'drop');
      }
    }
    if ('reset' in msg) {
      for (const entry of this.entries.splice(0)) entry.settle('drop');
      this.spacing = this.fixedSpacing;
      clearInterval(this.timer);
      this.timer = this.arm();
    }
    this.onDepth(this.entries.length);
    this.save();
    const result = await outcome;
    if (result === 'send') return msg;
    if (result === 'replaced' && this.twoOutputs) return [null, msg];
    return null;
  }

  close(): void {
    // What waits stays in context for the next instance, whose resumed runs bring the messages back; here they fail
    // (as the other delay modes' do), which a shutdown does not record.
    this.closing = true;
    clearInterval(this.timer);
    for (const entry of this.entries.splice(0)) entry.fail(new Error('delay node stopped (flow redeployed or shut down) before the message was sent'));
  }
}
