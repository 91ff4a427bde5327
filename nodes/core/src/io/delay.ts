/** delay: Node-RED's delay node (fixed, per-message and random delays; rate limiting). */
import { defineNode, type FlowMessage, type InputContext, type NodeOutput, type NodeStatus } from '@flowcrew/sdk';
import { invocationKey, KeptState } from '../sequence/kept-state.ts';
import { Holding, isBareFlush, RESTORE_GRACE_MS } from './delay-holding.ts';
import { RateQueue } from './delay-rate.ts';
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
/** Node-RED converts units this way, seconds being the fallback. */
const toMs = (value: number | string | undefined, unit: TimeUnit | undefined) => Number(value ?? 0) * TIME_UNIT_MS[unit ?? 'seconds'] || 0;

/**
 * A held message's deadline is kept in context only from this long on: a shorter delay, replayed after a restart,
 * just waits its whole time again (at most this much longer), which saves two writes per message.
 */
const KEEP_DUE_FROM_MS = 1000;


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

### Across a restart
A waiting message's run is resumed after a restart. A delay of a second or more waits only for the time it had
left; the rate limit keeps its queue order, its spacing (also one set by \`msg.rate\`) and counts from the last
message sent before the restart; a burst keeps the messages already passed in its period; the per-topic modes
(\`queue\`, \`timed\`) keep their queue's order (their interval starts anew).
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

    const kept = new KeptState(init.context.node, 'delay:', init.log);
    const topicQueue =
      pauseType === 'queue' || pauseType === 'timed' ? new TopicQueue(fixedSpacing, fixedSpacing, pauseType === 'timed', props.outputs === 2, props.allowrate === true, reportDepth, kept) : undefined;
    const rateQueue = pauseType === 'rate' ? new RateQueue(fixedSpacing, { drop: props.drop === true, allowRate: props.allowrate === true, dropOutput }, holding, kept) : undefined;

    // --- burst: when each message of the current periods went through (kept, so a restart does not open a new burst).
    const burstSize = Number(props.rate ?? 1);
    const burstPeriod = nbRateUnits * rateUnitMs;
    const burst = new Map<NodeJS.Timeout, number>();
    const saveBurst = () => kept.set('burst', [...burst.values()]);
    const passBurst = (at: number) => {
      const timer = setTimeout(() => {
        burst.delete(timer);
        saveBurst();
      }, at + burstPeriod - Date.now());
      timer.unref();
      burst.set(timer, at);
    };
    if (pauseType === 'burst') for (const at of (kept.get('burst') as number[] | undefined) ?? []) if (at + burstPeriod > Date.now()) passBurst(at);

    // --- delay, delayv, random: a held message's deadline (epoch ms) under "due:<invocation>", so a restart, which
    // replays the invocation, waits only for the time left. Deadlines of invocations that do not come back are dropped.
    let closing = false;
    const restoredDue = new Set(kept.entries().flatMap(([key]) => (key.startsWith('due:') ? [key] : [])));
    const graceTimer = restoredDue.size > 0 ? setTimeout(() => restoredDue.forEach((key) => kept.delete(key)), RESTORE_GRACE_MS).unref() : undefined;

    const delayFor = (msg: FlowMessage): number => {
      if (pauseType === 'delayv') {
        const requested = Number.parseFloat(String(msg.delay));
        return Math.max(0, 'delay' in msg && !Number.isNaN(requested) ? requested : timeoutMs);
      }
      if (pauseType === 'random') return randomFirst + randomSpread * Math.random();
      return timeoutMs;
    };

    const onBurst = (msg: FlowMessage): NodeOutput => {
      if ('reset' in msg) {
        for (const timer of burst.keys()) clearTimeout(timer);
        burst.clear();
        saveBurst();
        return null;
      }
      if (burst.size >= burstSize) return dropOutput(msg);
      passBurst(Date.now());
      saveBurst();
      return msg;
    };

    const hold = (msg: FlowMessage, ctx: InputContext): Promise<boolean> => {
      const key = `due:${invocationKey(ctx)}`;
      restoredDue.delete(key);
      const stored = kept.get(key);
      const due = typeof stored === 'number' ? stored : Date.now() + delayFor(msg);
      const waitMs = due - Date.now();
      const keep = stored !== undefined || waitMs >= KEEP_DUE_FROM_MS;
      if (keep && stored === undefined) kept.set(key, due);
      const held = holding.hold(ctx.signal, waitMs).promise;
      // Stopping keeps the deadline for the next instance; any other end of the wait removes it.
      const forget = () => {
        if (keep && !closing) kept.delete(key);
      };
      held.then(forget, forget);
      return held;
    };

    const onDelay = async (msg: FlowMessage, ctx: InputContext): Promise<NodeOutput> => {
      // Held first, then the controls apply, so a reset drops this message too and a flush sends it along (as in Node-RED).
      const held = isBareFlush(msg) ? undefined : hold(msg, ctx);
      if ('reset' in msg) holding.dropAll();
      else if ('flush' in msg) holding.flush(msg.flush);
      if (!held) return null;
      return (await held) ? msg : null;
    };

    return {
      onInput(msg, ctx) {
        if (rateQueue) return rateQueue.handle(msg, ctx);
        if (pauseType === 'burst') return onBurst(msg);
        if (topicQueue) return topicQueue.handle(msg, ctx);
        return onDelay(msg, ctx);
      },
      close() {
        closing = true;
        clearTimeout(statusTimer);
        clearTimeout(graceTimer);
        rateQueue?.close();
        topicQueue?.close();
        for (const timer of burst.keys()) clearTimeout(timer);
        holding.failAll(new Error('delay node stopped (flow redeployed or shut down) before the message was sent'));
      },
    };
  },
});
