/** delay: Node-RED's delay node (fixed, per-message and random delays; rate limiting). */
import { defineNode, type FlowMessage, type NodeOutput, type NodeStatus } from '@flowcrew/sdk';
import { TopicQueue } from './delay-topics.ts';

type TimeUnit = 'milliseconds' | 'seconds' | 'minutes' | 'hours' | 'days';
type RateUnit = 'second' | 'minute' | 'hour' | 'day';

export interface DelayProps {
  /**
   * delay: fixed; delayv: msg.delay ms (else the fixed delay); random: between randomFirst and randomLast;
   * rate: at most `rate` messages per `nbRateUnits` `rateUnits`, evenly spaced (queued, or dropped with `drop`);
   * burst: up to `rate` messages at once per period, the rest dropped;
   * queue / timed: per topic, the latest message of each topic waits; each period releases the oldest topic's (queue)
   * or all of them (timed).
   */
  pauseType?: 'delay' | 'delayv' | 'random' | 'rate' | 'burst' | 'queue' | 'timed';
  timeout?: number | string;
  timeoutUnits?: TimeUnit;
  rate?: number | string;
  nbRateUnits?: number | string;
  rateUnits?: RateUnit;
  randomFirst?: number | string;
  randomLast?: number | string;
  randomUnits?: TimeUnit;
  /** rate: drop messages that arrive too soon instead of queueing them. */
  drop?: boolean;
  /** rate: msg.rate (ms between messages) changes the rate. */
  allowrate?: boolean;
  /** 2: dropped messages leave on a second output. */
  outputs?: 1 | 2;
}

const TIME_UNIT_MS: Record<TimeUnit, number> = { milliseconds: 1, seconds: 1000, minutes: 60_000, hours: 3_600_000, days: 86_400_000 };
const RATE_UNIT_MS: Record<RateUnit, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000 };
/** setTimeout cannot wait longer than this; longer delays are chained. */
const MAX_TIMER_MS = 2_147_483_647;

/** Node-RED converts units this way, seconds being the fallback. */
const toMs = (value: number | string | undefined, unit: TimeUnit | undefined) => Number(value ?? 0) * TIME_UNIT_MS[unit ?? 'seconds'] || 0;

function longTimeout(fn: () => void, ms: number): { clear(): void } {
  let timer: NodeJS.Timeout;
  const arm = (remaining: number) => {
    timer = setTimeout(() => (remaining > MAX_TIMER_MS ? arm(remaining - MAX_TIMER_MS) : fn()), Math.min(remaining, MAX_TIMER_MS));
  };
  arm(Math.max(0, ms));
  return { clear: () => clearTimeout(timer) };
}

function cancelled(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('delay cancelled');
}

/** A message waiting in the node; `release(true)` sends it, `release(false)` drops it. */
interface Waiter {
  release(send: boolean): void;
  fail(error: Error): void;
}

/**
 * The messages a node holds across runs, with Node-RED's controls: `msg.reset` drops them all,
 * `msg.flush` sends them now (a number: only that many, oldest first).
 */
class Holding {
  private readonly waiters = new Set<Waiter>();
  constructor(private readonly onChange: (count: number) => void) {}

  /** Wait until released, with an optional timer that releases it; an aborted signal rejects. */
  hold(signal: AbortSignal, afterMs?: number): { promise: Promise<boolean>; waiter: Waiter } {
    let waiter!: Waiter;
    const promise = new Promise<boolean>((resolve, reject) => {
      const timer = afterMs === undefined ? undefined : longTimeout(() => waiter.release(true), afterMs);
      const onAbort = () => waiter.fail(cancelled(signal));
      const settle = () => {
        timer?.clear();
        signal.removeEventListener('abort', onAbort);
        this.waiters.delete(waiter);
        this.onChange(this.waiters.size);
      };
      waiter = {
        release: (send) => {
          settle();
          resolve(send);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
      if (signal.aborted) {
        reject(cancelled(signal));
        return;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.add(waiter);
      this.onChange(this.waiters.size);
    });
    return { promise, waiter };
  }

  dropAll(): void {
    for (const waiter of [...this.waiters]) waiter.release(false);
  }

  flush(count: unknown): void {
    const all = [...this.waiters];
    const n = typeof count === 'number' ? Math.min(Math.floor(count), all.length) : all.length;
    for (const waiter of all.slice(0, n)) waiter.release(true);
  }

  failAll(error: Error): void {
    for (const waiter of [...this.waiters]) waiter.fail(error);
  }
}

/** A message carrying only `flush` (and a message id) is a control message: it flushes but is not itself sent. */
const isBareFlush = (msg: FlowMessage) => 'flush' in msg && Object.keys(msg).filter((k) => k !== '_msgid').length === 1;

export const delayNode = defineNode<DelayProps>({
  type: 'delay',
  category: 'flow',
  label: 'delay',
  icon: 'hourglass_empty',
  color: '#e6e0f8',
  inputs: 1,
  outputs: { prop: 'outputs', min: 1 },
  outputLabels: ['messages', 'dropped'],
  allowsCycles: true,
  // Waiting is the point of this node: a flow-wide node timeout must not cut a long delay short.
  defaults: { timeoutMs: 0 },
  props: {
    type: 'object',
    properties: {
      pauseType: { title: 'Action', description: 'Delay each message (fixed, from msg.delay, or random), or limit the rate (all messages, or the latest per topic).', type: 'string', enum: ['delay', 'delayv', 'random', 'rate', 'burst', 'queue', 'timed'], default: 'delay' },
      timeout: { title: 'Delay for', type: ['number', 'string'], default: 5, description: 'How long each message waits (or the default when msg.delay is missing)' },
      timeoutUnits: { title: 'Delay unit', type: 'string', enum: Object.keys(TIME_UNIT_MS), default: 'seconds' },
      rate: { title: 'Rate (messages)', type: ['number', 'string'], default: 1, description: 'How many messages pass per period' },
      nbRateUnits: { title: 'Per (period length)', type: ['number', 'string'], default: 1, description: 'Length of the period, in the rate unit below' },
      rateUnits: { title: 'Rate unit', type: 'string', enum: Object.keys(RATE_UNIT_MS), default: 'second' },
      randomFirst: { title: 'Random delay from', type: ['number', 'string'], default: 1 },
      randomLast: { title: 'Random delay to', type: ['number', 'string'], default: 5 },
      randomUnits: { title: 'Random delay unit', type: 'string', enum: Object.keys(TIME_UNIT_MS), default: 'seconds' },
      drop: { title: 'Drop extra messages', type: 'boolean', default: false, description: 'When limiting the rate: drop messages over the limit instead of queueing them' },
      allowrate: { title: 'Allow msg.rate to override', type: 'boolean', default: false, description: 'When limiting the rate: msg.rate (milliseconds between messages) changes the rate' },
      outputs: { title: 'Outputs', type: 'integer', enum: [1, 2], default: 1, description: '2: send dropped messages to a second output' },
    },
    // Which fields each action uses: the editor shows a field only while its action is chosen (validation is unchanged).
    allOf: [
      { if: { properties: { pauseType: { enum: ['delay', 'delayv'] } } }, then: { properties: { timeout: {}, timeoutUnits: {} } } },
      { if: { properties: { pauseType: { const: 'random' } } }, then: { properties: { randomFirst: {}, randomLast: {}, randomUnits: {} } } },
      { if: { properties: { pauseType: { enum: ['rate', 'burst', 'queue', 'timed'] } } }, then: { properties: { rate: {}, nbRateUnits: {}, rateUnits: {}, outputs: {} } } },
      { if: { properties: { pauseType: { enum: ['rate', 'queue', 'timed'] } } }, then: { properties: { allowrate: {} } } },
      { if: { properties: { pauseType: { const: 'rate' } } }, then: { properties: { drop: {} } } },
    ],
  },
  help: `Delays messages, or limits how fast they pass. Works like Node-RED's delay node.

### Properties
- **Action**:
  - \`delay\`: hold each message for **Delay for** **Delay unit** (milliseconds, seconds, minutes, hours, days).
  - \`delayv\`: hold each message for \`msg.delay\` milliseconds (the fixed timeout when \`msg.delay\` is missing).
  - \`random\`: hold each message for a random time between **Random delay from** and **Random delay to** **Random delay unit**.
  - \`rate\`: let at most **Rate (messages)** messages through per **Per (period length)** **Rate unit**, evenly spaced (1 per second means one
    every 1000 ms). Extra messages wait in a queue, in arrival order (\`msg.toFront: true\` jumps the queue), or with **Drop extra messages**
    are dropped. With **Allow msg.rate to override**, \`msg.rate\` sets the spacing in milliseconds. The limit holds across runs.
  - \`burst\`: let up to **Rate (messages)** messages through straight away in each period; later ones are dropped.
  - \`queue\` and \`timed\` (per topic): each topic's latest message waits (\`msg.topic\` is set to \`_none_\` when missing);
    a newer message of a topic replaces the waiting one, which is dropped (or sent on output 2). Every period of
    **Rate (messages)** / **Per (period length)** **Rate unit**, \`queue\` releases the oldest topic's message and \`timed\` releases all of them.
- **Outputs**: \`2\` sends dropped messages to a second output instead of discarding them.

### Input
- \`msg.reset\`: drop every message being held (the reset message itself is not sent).
- \`msg.flush\`: send the held messages now; a number flushes only that many (oldest first). A message with only \`flush\` is not itself sent.

### Output
The message, unchanged, once its time comes. Cancelling the run cancels its waiting messages.
`,
  create(init) {
    const props = init.props;
    const pauseType = props.pauseType ?? 'delay';
    const timeoutMs = toMs(props.timeout, props.timeoutUnits);
    const randomFirst = toMs(props.randomFirst, props.randomUnits);
    const randomSpread = toMs(props.randomLast, props.randomUnits) - randomFirst;
    const nbRateUnits = Number(props.nbRateUnits ?? 1);
    const rateUnitMs = RATE_UNIT_MS[props.rateUnits ?? 'second'];
    /** Node-RED: ms between messages = period / rate. */
    const fixedSpacing = (rateUnitMs / Number(props.rate ?? 1)) * (nbRateUnits > 0 ? nbRateUnits : 1);
    const dropOutput = (msg: FlowMessage): NodeOutput => (props.outputs === 2 ? [null, msg] : null);
    if (pauseType === 'delay' && !(timeoutMs >= 0)) throw new Error(`delay: invalid timeout "${props.timeout}"`);
    if (['rate', 'burst', 'queue', 'timed'].includes(pauseType) && !(fixedSpacing > 0 && Number.isFinite(fixedSpacing))) {
      throw new Error(`delay: invalid rate "${props.rate}" per ${props.nbRateUnits ?? 1} ${props.rateUnits ?? 'second'}`);
    }

    // Status shows how many messages are held; updates are batched so a busy node does not flood the editor.
    let statusTimer: NodeJS.Timeout | undefined;
    let heldCount = 0;
    const reportDepth = (count: number) => {
      heldCount = count;
      statusTimer ??= setTimeout(() => {
        statusTimer = undefined;
        const status: NodeStatus = { fill: 'blue', shape: heldCount > 0 ? 'dot' : 'ring', text: String(heldCount) };
        init.status(status);
      }, 500).unref();
    };
    const holding = new Holding(reportDepth);
    const topicQueue =
      pauseType === 'queue' || pauseType === 'timed' ? new TopicQueue(fixedSpacing, fixedSpacing, pauseType === 'timed', props.outputs === 2, props.allowrate === true, reportDepth) : undefined;

    // --- rate (queue mode): one message per `spacing` ms, the first at once; waiting ones are released by a single timer.
    let spacing = fixedSpacing;
    let lastSent = Number.NEGATIVE_INFINITY;
    let pump: NodeJS.Timeout | undefined;
    const queue: Waiter[] = [];
    const releaseNext = () => {
      if (pump) return;
      while (queue.length > 0) {
        const wait = lastSent + spacing - Date.now();
        if (wait > 0) {
          pump = setTimeout(() => {
            pump = undefined;
            releaseNext();
          }, wait);
          return;
        }
        lastSent = Date.now();
        queue.shift()!.release(true);
      }
    };
    const restartPump = () => {
      clearTimeout(pump);
      pump = undefined;
      releaseNext();
    };

    // --- burst: how many messages went through in the current periods.
    const burstTimers = new Set<NodeJS.Timeout>();
    const burstSize = Number(props.rate ?? 1);
    const burstPeriod = nbRateUnits * rateUnitMs;

    const delayFor = (msg: FlowMessage): number => {
      if (pauseType === 'delayv') {
        const requested = Number.parseFloat(String(msg.delay));
        return Math.max(0, 'delay' in msg && !Number.isNaN(requested) ? requested : timeoutMs);
      }
      if (pauseType === 'random') return randomFirst + randomSpread * Math.random();
      return timeoutMs;
    };

    const onRate = async (msg: FlowMessage, signal: AbortSignal): Promise<NodeOutput> => {
      const newRate = Number.parseFloat(String(msg.rate));
      if (props.allowrate && 'rate' in msg && !Number.isNaN(newRate) && newRate !== spacing) {
        spacing = newRate;
        restartPump();
      }
      if ('reset' in msg) {
        for (const waiter of queue.splice(0)) waiter.release(false);
        lastSent = Number.NEGATIVE_INFINITY;
        spacing = fixedSpacing;
        restartPump();
        return null;
      }
      if (props.drop) {
        const now = Date.now();
        if (now - lastSent > spacing) {
          lastSent = now;
          return msg;
        }
        return dropOutput(msg);
      }
      const { flush, ...rest } = msg;
      let held: Promise<boolean> | undefined;
      if (!isBareFlush(msg)) {
        if (signal.aborted) throw cancelled(signal);
        const { promise, waiter } = holding.hold(signal);
        if (msg.toFront === true) queue.unshift(waiter);
        else queue.push(waiter);
        // A cancelled message gives up its place (Holding has already rejected it).
        signal.addEventListener('abort', () => queue.includes(waiter) && queue.splice(queue.indexOf(waiter), 1), { once: true });
        held = promise;
        releaseNext();
      }
      if ('flush' in msg) {
        const count = typeof flush === 'number' ? Math.min(Math.floor(flush), queue.length) : queue.length;
        for (const waiter of queue.splice(0, count)) waiter.release(true);
        // Node-RED restarts its interval after a flush: the next queued message waits a full spacing.
        if (count > 0) lastSent = Date.now();
        restartPump();
      }
      if (!held) return null;
      return (await held) ? rest : null;
    };

    const onBurst = (msg: FlowMessage): NodeOutput => {
      if ('reset' in msg) {
        for (const timer of burstTimers) clearTimeout(timer);
        burstTimers.clear();
        return null;
      }
      if (burstTimers.size >= burstSize) return dropOutput(msg);
      const timer = setTimeout(() => burstTimers.delete(timer), burstPeriod);
      burstTimers.add(timer);
      return msg;
    };

    const onDelay = async (msg: FlowMessage, signal: AbortSignal): Promise<NodeOutput> => {
      // Held first, then the controls apply, so a reset drops this message too and a flush sends it along (as in Node-RED).
      const held = isBareFlush(msg) ? undefined : holding.hold(signal, delayFor(msg)).promise;
      if ('reset' in msg) holding.dropAll();
      else if ('flush' in msg) holding.flush(msg.flush);
      if (!held) return null;
      return (await held) ? msg : null;
    };

    return {
      onInput(msg, ctx) {
        if (pauseType === 'rate') return onRate(msg, ctx.signal);
        if (pauseType === 'burst') return onBurst(msg);
        if (topicQueue) return topicQueue.handle(msg, ctx.signal);
        return onDelay(msg, ctx.signal);
      },
      close() {
        clearTimeout(pump);
        clearTimeout(statusTimer);
        topicQueue?.close();
        for (const timer of burstTimers) clearTimeout(timer);
        burstTimers.clear();
        queue.length = 0;
        holding.failAll(new Error('delay node stopped (flow redeployed or shut down) before the message was sent'));
      },
    };
  },
});
