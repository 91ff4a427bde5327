/**
 * The delay node's per-topic modes (Node-RED's pauseType "queue" and "timed"): messages wait in a queue that holds
 * at most one message per topic (a newer message of a topic replaces the one waiting, which is dropped or sent on
 * output 2); every interval, "queue" releases the oldest topic's message, "timed" releases all of them.
 */
import type { FlowMessage, NodeOutput } from '@flowcrew/sdk';

type Outcome = 'send' | 'drop' | 'replaced';

interface Entry {
  msg: FlowMessage;
  settle(outcome: Outcome): void;
}

export class TopicQueue {
  private entries: Entry[] = [];
  private timer: NodeJS.Timeout;

  constructor(
    private spacing: number,
    private readonly fixedSpacing: number,
    private readonly releaseAll: boolean,
    private readonly twoOutputs: boolean,
    private readonly allowRate: boolean,
    private readonly onDepth: (count: number) => void,
  ) {
    this.timer = this.arm();
  }

  /** Node-RED ticks from deploy on, whether messages wait or not. */
  private arm(): NodeJS.Timeout {
    const timer = setInterval(() => this.tick(), this.spacing);
    timer.unref();
    return timer;
  }

  private tick(): void {
    const released = this.releaseAll ? this.entries.splice(0) : this.entries.splice(0, 1);
    for (const entry of released) entry.settle('send');
    if (released.length > 0) this.onDepth(this.entries.length);
  }

  /** Queue `msg` (replacing a waiting message of its topic) and apply flush/reset; resolves with what leaves for it. */
  async handle(msg: FlowMessage, signal: AbortSignal): Promise<NodeOutput> {
    const rate = Number.parseFloat(String(msg.rate));
    if (this.allowRate && 'rate' in msg && !Number.isNaN(rate) && rate !== this.spacing) {
      this.spacing = rate;
      clearInterval(this.timer);
      this.timer = this.arm();
    }
    if (!('topic' in msg)) msg.topic = '_none_';
    const outcome = new Promise<Outcome>((resolve, reject) => {
      const entry: Entry = { msg, settle: (o) => (signal.removeEventListener('abort', onAbort), resolve(o)) };
      const onAbort = () => {
        const at = this.entries.indexOf(entry);
        if (at >= 0) this.entries.splice(at, 1);
        reject(signal.reason instanceof Error ? signal.reason : new Error('delay cancelled'));
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      const same = this.entries.findIndex((e) => e.msg.topic === msg.topic);
      if (same >= 0) {
        this.entries[same]!.settle('replaced');
        this.entries[same] = entry;
      } else this.entries.push(entry);
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
    const result = await outcome;
    if (result === 'send') return msg;
    if (result === 'replaced' && this.twoOutputs) return [null, msg];
    return null;
  }

  close(): void {
    clearInterval(this.timer);
    for (const entry of this.entries.splice(0)) entry.settle('drop');
  }
}
