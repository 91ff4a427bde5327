/**
 * batch: Node-RED's batch node. Groups messages into sequences (msg.parts) by count (optionally overlapping), by
 * time interval, or by concatenating whole sequences of given topics. A count or concat group leaves from the
 * invocation that completed it; an interval's group leaves when its timer fires, each message as a new run that
 * starts at this node (the runtime's TriggerContext, handed to start()). Waiting messages are mirrored into the
 * node's context, so a restart or redeploy carries on with them.
 */
import { defineNode, type FlowMessage, type Logger, type TriggerContext } from '@flowcrew/sdk';
import { cloneMessage, generateId, hasOwn } from '@flowcrew/sdk/util';
import { SerialQueue } from '../transform/queue.ts';
import { KeptState } from './kept-state.ts';

export interface BatchProps {
  mode: 'count' | 'interval' | 'concat';
  /** count: messages per group. */
  count: number;
  /** count: messages each group repeats from the previous one. */
  overlap: number;
  /** interval: seconds. */
  interval: number;
  /** interval: send an empty message (payload null) when no message arrived. */
  allowEmptySequence: boolean;
  /** count: a message that ends a sequence (msg.parts) ends the group too. */
  honourParts: boolean;
  /** concat: the topics whose sequences are joined, in this order. */
  topics: Array<{ topic: string }>;
}

/** At most this many messages wait (Node-RED's nodeMessageBufferMaxLength, here always on). */
export const BATCH_MAX_PENDING = 10_000;

/** Number the messages as one sequence (the id is the first message's _msgid, as in Node-RED). */
function sequence(msgs: FlowMessage[], clone: boolean): FlowMessage[] {
  const id = msgs[0]?._msgid ?? generateId();
  return msgs.map((original, index) => {
    const msg = clone ? cloneMessage(original) : original;
    const parts = (hasOwn(msg, 'parts') && typeof msg.parts === 'object' && msg.parts !== null ? msg.parts : {}) as Record<string, unknown>;
    msg.parts = Object.assign(parts, { id, index, count: msgs.length });
    return msg;
  });
}

class Batcher {
  private readonly queue = new SerialQueue();
  private pending: FlowMessage[] = [];
  /** concat: topic → sequences in arrival order (id, messages, expected count). */
  private groups = new Map<string, Array<{ id: string; msgs: FlowMessage[]; count?: number }>>();
  private pendingCount = 0;
  private timer?: NodeJS.Timeout;
  private emitter?: TriggerContext;
  private readonly mode: BatchProps['mode'];
  private readonly count: number;
  private readonly overlap: number;
  private readonly intervalMs: number;
  private readonly topics: string[];
  private loaded = false;

  constructor(
    private readonly props: Partial<BatchProps>,
    private readonly log: Logger,
    private readonly kept: KeptState,
  ) {
    this.mode = props.mode ?? 'count';
    this.count = Number(props.count || 1);
    this.overlap = Number(props.overlap || 0);
    this.intervalMs = Number(props.interval || 0) * 1000;
    this.topics = (props.topics ?? []).map((t) => t.topic);
    if (this.mode === 'count' && this.count <= this.overlap) throw new Error('batch: the count must be greater than the overlap');
  }

  start(trigger: TriggerContext): Promise<void> {
    this.emitter = trigger;
    this.arm();
    return this.queue.run(() => this.load());
  }

  /** Messages kept in context stay for the next instance (redeploy, restart); this one only stops its timer. */
  stop(): void {
    this.emitter = undefined;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** What a previous instance left waiting (read once). */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const [key, value] of this.kept.entries()) {
      if (key === 'pending' && Array.isArray(value)) this.pending = value as FlowMessage[];
      else if (key === 'groups' && Array.isArray(value)) this.groups = new Map(value as Array<[string, Array<{ id: string; msgs: FlowMessage[]; count?: number }>]>);
    }
    this.pendingCount = this.pending.length + [...this.groups.values()].flat().reduce((n, g) => n + g.msgs.length, 0);
  }

  /** Mirror what waits into context. */
  private keep(): void {
    if (this.mode === 'concat') {
      if (this.groups.size === 0) this.kept.delete('groups');
      else this.kept.set('groups', [...this.groups.entries()]);
    } else if (this.pending.length === 0) this.kept.delete('pending');
    else this.kept.set('pending', this.pending);
  }

  private arm(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (this.mode === 'interval' && this.intervalMs > 0) this.timer = setInterval(() => void this.queue.run(() => this.tick()), this.intervalMs);
  }

  handle(msg: FlowMessage): Promise<FlowMessage[]> {
    return this.queue.run(() => {
      this.load();
      let out: FlowMessage[];
      if (hasOwn(msg, 'reset')) {
        this.pending = [];
        this.groups.clear();
        this.pendingCount = 0;
        if (this.mode === 'interval') this.arm();
        out = [];
      } else if (this.mode === 'count') out = this.byCount(msg);
      else if (this.mode === 'interval') out = this.hold(msg);
      else out = this.concat(msg);
      this.keep();
      return out;
    });
  }

  private tooMany(): boolean {
    if (this.pendingCount <= BATCH_MAX_PENDING) return false;
    this.log.warn(`batch: more than ${BATCH_MAX_PENDING} messages waiting; they were dropped`);
    this.pending = [];
    this.groups.clear();
    this.pendingCount = 0;
    return true;
  }

  private byCount(msg: FlowMessage): FlowMessage[] {
    const parts = msg.parts as { index?: unknown; count?: unknown } | undefined;
    const eof = this.props.honourParts === true && hasOwn(msg, 'parts') && Number(parts?.index) + 1 === Number(parts?.count);
    this.pending.push(msg);
    this.pendingCount++;
    if (this.pending.length === this.count || eof) {
      const group = this.pending;
      const out = sequence(group, this.overlap > 0);
      this.pending = this.overlap === 0 ? [] : group.slice(-this.overlap);
      this.pendingCount = 0;
      return out;
    }
    this.tooMany();
    return [];
  }

  private hold(msg: FlowMessage): FlowMessage[] {
    this.pending.push(msg);
    this.pendingCount++;
    this.tooMany();
    return [];
  }

  /** The interval passed: the held messages leave as one sequence, each starting a run. */
  private async tick(): Promise<void> {
    let out: FlowMessage[];
    if (this.pending.length > 0) out = sequence(this.pending, false);
    else if (this.props.allowEmptySequence === true) out = [{ payload: null, parts: { id: generateId(), index: 0, count: 1 } }];
    else return;
    this.pending = [];
    this.pendingCount = 0;
    this.keep();
    if (!this.emitter) {
      this.log.error(`batch: ${out.length} message(s) were due but the runtime gave this node no way to send them (start() was not called); they were dropped`);
      return;
    }
    for (const msg of out) {
      delete msg._msgid;
      await this.emitter.emit(msg).catch((error: unknown) => this.log.error(`batch: could not send a message of the interval's sequence: ${(error as Error).message}`));
    }
  }

  private concat(msg: FlowMessage): FlowMessage[] {
    const topic = String(msg.topic);
    if (!this.topics.includes(topic)) return [];
    const parts = msg.parts as { id?: unknown; index?: unknown; count?: unknown } | undefined;
    if (!parts || !hasOwn(parts, 'id') || !hasOwn(parts, 'index') || !hasOwn(parts, 'count')) throw new Error('batch: a message without msg.parts (id, index and count) cannot be concatenated');
    const sequences = this.groups.get(topic) ?? [];
    this.groups.set(topic, sequences);
    let group = sequences.find((g) => g.id === String(parts.id));
    if (!group) {
      group = { id: String(parts.id), msgs: [] };
      sequences.push(group);
    }
    group.msgs.push(msg);
    group.count ??= Number(parts.count);
    this.pendingCount++;
    if (this.tooMany()) return [];
    // Every topic's oldest sequence complete: send them one after the other, in the topics' order.
    const complete = (t: string) => {
      const first = this.groups.get(t)?.[0];
      return first !== undefined && first.count === first.msgs.length;
    };
    if (!this.topics.every(complete)) return [];
    const all = this.topics.flatMap((t) => this.groups.get(t)![0]!.msgs);
    for (const t of new Set(this.topics)) this.groups.get(t)!.shift();
    this.pendingCount -= all.length;
    return sequence(all, true);
  }
}

export const batchNode = defineNode<Partial<BatchProps>>({
  type: 'batch',
  category: 'flow',
  label: 'batch',
  icon: 'stacks',
  color: '#e2d96e',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['count', 'interval', 'concat'], default: 'count', title: 'Mode' },
      count: { type: 'integer', minimum: 1, default: 10, title: 'Messages per group (count)' },
      overlap: { type: 'integer', minimum: 0, default: 0, title: 'Overlap (count)' },
      interval: { type: 'number', minimum: 0, default: 10, title: 'Interval in seconds (interval)' },
      allowEmptySequence: { type: 'boolean', default: false, title: 'Send an empty message when nothing arrived (interval)' },
      honourParts: { type: 'boolean', default: false, title: 'End a group where a sequence ends (count)' },
      topics: {
        type: 'array',
        default: [{ topic: '' }],
        title: 'Topics (concat)',
        items: { type: 'object', required: ['topic'], properties: { topic: { type: 'string', title: 'Topic' } } },
      },
    },
  },
  validate(props) {
    const count = Number(props.count ?? 10);
    const overlap = Number(props.overlap ?? 0);
    return (props.mode ?? 'count') === 'count' && count <= overlap ? [{ pointer: '/overlap', message: 'must be less than count' }] : [];
  },
  help: `Groups messages into sequences. Works like Node-RED's batch node.

### Properties
- **Mode**:
  - \`count\`: a group of **Messages per group (count)** messages; with **Overlap (count)**, each group repeats the last messages of the previous one.
    **End a group where a sequence ends (count)**: a message ending a sequence (\`msg.parts.index + 1 = msg.parts.count\`) ends the group too.
  - \`interval\`: every **Interval in seconds (interval)** seconds, the messages that arrived meanwhile; **Send an empty message when nothing arrived (interval)** sends a message with
    \`payload: null\` when none did.
  - \`concat\`: joins whole sequences (messages with \`msg.parts\`) of the listed **Topics (concat)**, in that order, once each topic has a
    complete one.

### Input
\`msg.reset\` drops the messages waiting (and restarts the interval).

### Output
The messages of each group, with \`msg.parts\` (\`id\`, \`index\`, \`count\`) so that a join node can combine them.

### Notes
A count or concat group leaves in the run of the message that completed it; an interval's group starts a new run per
message at this node. Waiting messages are kept in the node's context and survive a restart. At most ${BATCH_MAX_PENDING} messages wait.
`,
  create({ props, context, log }) {
    const batcher = new Batcher(props, log, new KeptState(context.node, 'batch:', log));
    return {
      onInput: async (msg) => [await batcher.handle(msg)],
      start: (trigger) => batcher.start(trigger),
      stop: () => batcher.stop(),
      close: () => batcher.stop(),
    };
  },
});
