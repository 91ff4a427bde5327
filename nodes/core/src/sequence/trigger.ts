/**
 * trigger: Node-RED's trigger node. Sends a first message at once, then a second one after a delay (unless reset),
 * blocking further messages meanwhile, or extending the delay with each one; per topic or for all; or, with a
 * negative delay, resends the first message at that interval until reset.
 *
 * The first message leaves as the node's output in the run that brought the input. What leaves later (the second
 * message, the repeats) starts a new run at this node through the TriggerContext the runtime hands to start(),
 * on output 2 when the node has two. What a topic waits for (its deadline, the messages it will send) is mirrored
 * into the node's context, so a restart or redeploy carries on with it.
 */
import mustache from 'mustache';
import { defineNode, type FlowMessage, type Logger, type TriggerContext } from '@flowcrew/sdk';
import { prepareTypedValue, type ContextScopes, type TypedValue } from '@flowcrew/sdk/util';
import { cloneMessage, hasOwn } from '@flowcrew/sdk/util';
import { getMessagePropertyOrUndefined } from '@flowcrew/sdk/util';
import { SerialQueue } from '../transform/queue.ts';
import { KeptState } from './kept-state.ts';

/** Node-RED's value types here: the typed ones, plus pay (the input's payload), payl (the latest message, op2 only) and nul (nothing). */
export const TRIGGER_VALUE_TYPES = ['str', 'num', 'bool', 'json', 'bin', 'date', 'env', 'flow', 'global', 'pay', 'payl', 'nul'] as const;
type ValueType = (typeof TRIGGER_VALUE_TYPES)[number];

export interface TriggerProps {
  op1: string | number | boolean;
  op1type: ValueType;
  op2: string | number | boolean;
  op2type: ValueType;
  /** Delay (in `units`); 0 waits until reset; negative: resend the first message at this interval. */
  duration: number | string;
  units: 'ms' | 's' | 'min' | 'hr';
  /** Each new message restarts the delay. */
  extend: boolean;
  /** msg.delay (ms) overrides the delay. */
  overrideDelay: boolean;
  /** A payload equal to this resets the node (as msg.reset does). */
  reset: string;
  bytopic: 'all' | 'topic';
  /** The message property that names a topic (bytopic "topic"). */
  topic: string;
  /** 2: the second message leaves on its own output. */
  outputs: 1 | 2;
}

const UNIT_MS = { ms: 1, s: 1000, min: 60_000, hr: 3_600_000 } as const;

/** setTimeout holds at most 2^31-1 ms (24.8 days); a longer delay is waited in steps instead of firing at once. */
const MAX_TIMER_MS = 2_147_483_647;

function later(fn: () => void, ms: number): { clear(): void } {
  let timer: NodeJS.Timeout;
  const arm = (left: number) => {
    timer = setTimeout(() => (left > MAX_TIMER_MS ? arm(left - MAX_TIMER_MS) : fn()), Math.min(Math.max(0, left), MAX_TIMER_MS));
  };
  arm(ms);
  return { clear: () => clearTimeout(timer) };
}

interface TopicState {
  /** Set while the topic blocks (a timer, or `0` for "until reset"). */
  timer?: { clear(): void } | 0;
  loop?: NodeJS.Timeout;
  second?: unknown;
}

/** A waiting topic as kept in context: what to do when, with which message. */
interface KeptTopic {
  /** wait: send the second message at the deadline; extended: the same after an extension; blocked: until reset; loop: repeat. */
  mode: 'wait' | 'extended' | 'blocked' | 'loop';
  deadline?: number;
  /** The message the second one is made from (the last one, when extended), or the repeated one. */
  msg: FlowMessage;
  second?: unknown;
  /** payl: the latest message. */
  latest?: FlowMessage;
  /** loop: the interval. */
  every?: number;
}

interface Operand {
  type: ValueType;
  text: string;
  templated: boolean;
  typed?: TypedValue;
}

function operand(value: unknown, type: ValueType, fallback: string, contexts: ContextScopes): Operand {
  // Node-RED: an empty value is its default ("1" / "0"), except a date's, which is a timestamp.
  let text = value === undefined || value === null || value === '' ? fallback : String(value);
  if (type === 'date' && text === fallback) text = '';
  const templated = type === 'str' && text.includes('{{');
  const typed = ['pay', 'payl', 'nul'].includes(type) || templated ? undefined : prepareTypedValue(text, type, contexts, 'trigger value');
  return { type, text, templated, typed };
}

class Trigger {
  private readonly queue = new SerialQueue();
  private readonly topics = new Map<string, TopicState>();
  private readonly latest = new Map<string, FlowMessage>();
  private readonly op1: Operand;
  private readonly op2: Operand;
  private readonly durationMs: number;
  private readonly loop: boolean;
  private readonly extend: boolean;
  private readonly secondPort: number;
  private emitter?: TriggerContext;
  private loaded = false;

  constructor(
    private readonly props: Partial<TriggerProps>,
    contexts: ContextScopes,
    private readonly log: Logger,
    private readonly status: (count: number) => void,
    private readonly kept: KeptState,
  ) {
    this.op1 = operand(props.op1, props.op1type ?? 'str', '1', contexts);
    this.op2 = operand(props.op2, props.op2type ?? 'str', '0', contexts);
    let duration = Number.parseFloat(String(props.duration ?? 250));
    if (Number.isNaN(duration)) duration = 250;
    this.loop = duration < 0;
    this.extend = !this.loop && props.extend === true;
    this.durationMs = Math.abs(duration) * UNIT_MS[props.units ?? 'ms'];
    this.secondPort = Number(props.outputs) === 2 ? 1 : 0;
  }

  start(trigger: TriggerContext): Promise<void> {
    this.emitter = trigger;
    return this.queue.run(() => this.load());
  }

  /** Waiting topics stay in context for the next instance (redeploy, restart); this one only stops its timers. */
  stop(): void {
    this.emitter = undefined;
    for (const state of this.topics.values()) this.clear(state);
    this.topics.clear();
  }

  handle(msg: FlowMessage): Promise<FlowMessage | null> {
    return this.queue.run(() => {
      this.load();
      return this.process(msg);
    });
  }

  /** Topics a previous instance left waiting (read once): their timers are armed again for the time that is left. */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const [topic, value] of this.kept.entries()) {
      const k = value as KeptTopic;
      const state: TopicState = { second: k.second };
      this.topics.set(topic, state);
      if (k.latest) this.latest.set(topic, k.latest);
      const left = Math.max(0, (k.deadline ?? 0) - Date.now());
      if (k.mode === 'blocked') state.timer = 0;
      else if (k.mode === 'loop') this.repeat(state, k.msg, k.every ?? this.durationMs);
      else state.timer = later(() => void this.queue.run(() => (k.mode === 'wait' ? this.fire(topic, k.msg) : this.fireExtended(topic, k.msg))), left);
    }
    this.status(this.topics.size);
  }

  private keep(topic: string, kept: KeptTopic): void {
    const latest = this.latest.get(topic);
    this.kept.set(topic, latest ? { ...kept, latest } : kept);
  }

  private repeat(state: TopicState, msg: FlowMessage, every: number): void {
    const repeat = cloneMessage(msg);
    state.loop = setInterval(() => {
      if (this.op1.type === 'date') repeat.payload = Date.now();
      this.send(cloneMessage(repeat), 0);
    }, every);
  }

  private clear(state: TopicState): void {
    if (state.timer) state.timer.clear();
    if (state.loop) clearInterval(state.loop);
  }

  private async value(op: Operand, msg: FlowMessage): Promise<unknown> {
    if (op.templated) return mustache.render(op.text, msg);
    return op.typed!.get(msg);
  }

  private async process(msg: FlowMessage): Promise<FlowMessage | null> {
    const topic = this.props.bytopic === 'topic' ? String(getMessagePropertyOrUndefined(msg, this.props.topic || 'topic') || '_none') : '_none';
    let delay = this.durationMs;
    if (this.props.overrideDelay && hasOwn(msg, 'delay') && !Number.isNaN(Number.parseFloat(String(msg.delay)))) delay = Number.parseFloat(String(msg.delay));
    const reset = this.props.reset ?? '';
    if (hasOwn(msg, 'reset') || (reset !== '' && msg.payload !== null && msg.payload !== undefined && String(msg.payload) === reset)) {
      const state = this.topics.get(topic);
      if (state) this.clear(state);
      this.topics.delete(topic);
      this.latest.delete(topic);
      this.kept.delete(topic);
      this.status(this.topics.size);
      return null;
    }
    if (this.op2.type === 'payl') this.latest.set(topic, cloneMessage(msg));
    const state = this.topics.get(topic) ?? {};
    this.topics.set(topic, state);
    if (state.timer === undefined || this.loop) {
      if (this.op2.type === 'pay') state.second = cloneMessage(msg.payload);
      else if (this.op2.type !== 'nul' && this.op2.type !== 'payl') state.second = await this.value(this.op2, msg);
      if (this.op1.type !== 'pay' && this.op1.type !== 'nul') msg.payload = await this.value(this.op1, msg);
      if (delay === 0) {
        state.timer = 0;
        this.keep(topic, { mode: 'blocked', msg });
      } else if (this.loop) {
        if (state.loop) clearInterval(state.loop);
        if (this.op1.type !== 'nul') {
          this.repeat(state, msg, delay);
          this.keep(topic, { mode: 'loop', msg, every: delay });
        }
      } else {
        state.timer = later(() => void this.queue.run(() => this.fire(topic, msg)), delay);
        this.keep(topic, { mode: 'wait', deadline: Date.now() + delay, msg, second: state.second });
      }
      this.status(this.topics.size);
      return this.op1.type === 'nul' ? null : cloneMessage(msg);
    }
    if (this.extend && delay > 0) {
      if (this.op2.type === 'payl') state.second = cloneMessage(msg.payload);
      if (state.timer) state.timer.clear();
      state.timer = later(() => void this.queue.run(() => this.fireExtended(topic, msg)), delay);
      this.keep(topic, { mode: 'extended', deadline: Date.now() + delay, msg, second: state.second });
    } else if (this.op2.type === 'payl' && state.timer !== undefined) {
      const kept = this.kept.entries().find(([t]) => t === topic)?.[1] as KeptTopic | undefined;
      if (kept) this.keep(topic, kept);
    }
    return null;
  }

  /** The delay of a first message ran out: send the second message. */
  private async fire(topic: string, first: FlowMessage): Promise<void> {
    const state = this.topics.get(topic);
    if (!state) return;
    this.topics.delete(topic);
    this.kept.delete(topic);
    this.status(this.topics.size);
    if (this.op2.type === 'nul') return;
    let second: FlowMessage;
    if (this.op2.type === 'payl') {
      second = this.latest.get(topic) ?? cloneMessage(first);
      this.latest.delete(topic);
    } else {
      second = cloneMessage(first);
      // Context values and dates are read when the message leaves.
      second.payload = ['flow', 'global', 'date'].includes(this.op2.type) ? await this.value(this.op2, first) : state.second;
    }
    this.send(second, this.secondPort);
  }

  /** The (extended) delay ran out: the last message, with the second value as payload. */
  private async fireExtended(topic: string, last: FlowMessage): Promise<void> {
    const state = this.topics.get(topic);
    if (!state) return;
    this.topics.delete(topic);
    this.kept.delete(topic);
    this.latest.delete(topic);
    this.status(this.topics.size);
    if (this.op2.type === 'nul') return;
    const second = cloneMessage(last);
    second.payload = this.op2.type === 'flow' || this.op2.type === 'global' ? await this.value(this.op2, last) : state.second;
    this.send(second, this.secondPort);
  }

  private send(msg: FlowMessage, port: number): void {
    if (!this.emitter) {
      this.log.error('trigger: a delayed message was due but the runtime gave this node no way to send it (start() was not called); it was dropped', msg);
      return;
    }
    delete msg._msgid;
    this.emitter.emit(msg, port === 0 ? undefined : { port }).catch((error: unknown) => this.log.error(`trigger: could not send the delayed message: ${(error as Error).message}`));
  }
}

export const triggerNode = defineNode<Partial<TriggerProps>>({
  type: 'trigger',
  category: 'flow',
  label: 'trigger',
  icon: 'timer',
  color: '#e6e0f8',
  inputs: 1,
  outputs: { prop: 'outputs', min: 1 },
  outputLabels: ['first (and repeats)', 'second'],
  props: {
    type: 'object',
    properties: {
      op1: { type: ['string', 'number', 'boolean'], default: '1', title: 'Send first' },
      op1type: { type: 'string', enum: TRIGGER_VALUE_TYPES.filter((t) => t !== 'payl'), default: 'str', title: 'First value type' },
      op2: { type: ['string', 'number', 'boolean'], default: '0', title: 'Then send' },
      op2type: { type: 'string', enum: [...TRIGGER_VALUE_TYPES], default: 'str', title: 'Second value type' },
      duration: { type: ['number', 'string'], default: 250, title: 'Delay', description: '0: wait until reset; negative: resend the first message at this interval' },
      units: { type: 'string', enum: Object.keys(UNIT_MS), default: 'ms', title: 'Delay unit' },
      extend: { type: 'boolean', default: false, title: 'Extend the delay with each new message' },
      overrideDelay: { type: 'boolean', default: false, title: 'msg.delay (ms) overrides the delay' },
      reset: { type: 'string', default: '', title: 'Reset when msg.payload equals' },
      bytopic: { type: 'string', enum: ['all', 'topic'], default: 'all', title: 'Handle', description: '"all" messages together, or each "topic" on its own' },
      topic: { type: 'string', default: 'topic', title: 'Topic property' },
      outputs: { type: 'integer', enum: [1, 2], default: 1, title: 'Outputs', description: '2: the second message leaves on output 2' },
    },
  },
  help: `Sends a message, then optionally a second one after a delay. Works like Node-RED's trigger node.

### Properties
- **Send first** / **First value type**: the payload of the first message, sent at once: a typed value (\`str\`, \`num\`, \`bool\`, \`json\`,
  \`bin\`, \`date\`, \`env\`, \`flow\`, \`global\`), \`pay\` (the input's payload unchanged) or \`nul\` (send nothing).
  A string with \`{{ }}\` is a mustache template over the message.
- **op2** / **op2type**: the payload of the second message, sent after the delay; also \`payl\`: the latest message received.
- **duration** and **units** (\`ms\`, \`s\`, \`min\`, \`hr\`): the delay. \`0\` blocks until reset; a negative delay resends the
  first message at that interval until reset.
- **extend**: each message received while waiting restarts the delay.
- **overrideDelay**: \`msg.delay\` (milliseconds) sets the delay of that message.
- **reset**: a \`msg.payload\` equal to this resets the node, like \`msg.reset\`.
- **bytopic**: \`all\` treats every message together; \`topic\` keeps a separate trigger per value of the **topic** property.
- **outputs**: \`2\` sends the second message on output 2.

### Input
While waiting, further messages are dropped (unless **extend**). \`msg.reset\` stops the wait without sending the second message.

### Outputs
1. The input message with the first payload (and the repeats).
2. With **outputs** 2: the second message.

### Notes
The second message and the repeats start a new run at this node. What a topic waits for is kept in the node's context
and survives a restart: a delay that ran out meanwhile sends its second message at start.
`,
  create({ props, context, log, status }) {
    const kept = new KeptState(context.node, 'trigger:', log);
    const showCount = (count: number) => status(count === 0 ? {} : count === 1 ? { fill: 'blue', shape: 'dot' } : { fill: 'blue', shape: 'dot', text: String(count) });
    const trigger = new Trigger(props, context, log, showCount, kept);
    return {
      onInput: (msg) => trigger.handle(msg),
      start: (emitter) => trigger.start(emitter),
      stop: () => trigger.stop(),
      close: () => trigger.stop(),
    };
  },
});
