/**
 * join (Node-RED's "join" node): combine a sequence of messages into one. Modes: 'auto' reverses a split using
 * msg.parts, 'custom' builds a string/array/object/buffer or merged object from a count, a timeout or msg.complete,
 * 'reduce' folds a sequence with a JSONata expression.
 *
 * Groups in progress span several invocations: they live in memory, keyed by group id, and every change is
 * mirrored into the node's context (JSON) so that a restart picks them up again (read back lazily, on the first
 * message or when the node starts). A timeout fires outside any invocation, so the partial group is sent by
 * starting a run from this node through the TriggerContext the runtime hands to start().
 */
import { defineNode, type ContextStore, type FlowMessage, type Logger, type TriggerContext } from '@flowcrew/sdk';
import { compileJsonata, prepareTypedValue, type CompiledExpression, type ContextScopes, type TypedValue } from '@flowcrew/sdk/util';
import { assertPropertyExpression, getMessageProperty, setMessageProperty } from '@flowcrew/sdk/util';
import { cloneMessage, hasOwn } from '@flowcrew/sdk/util';
import { SerialQueue } from './queue.ts';
import { unescapeSeparator } from './split.ts';

export interface JoinProps {
  mode: 'auto' | 'custom' | 'reduce';
  /** custom: what to build. */
  build: 'string' | 'array' | 'object' | 'merged' | 'buffer';
  /** custom: the property to collect ('payload'); propertyType 'full' collects whole messages. */
  property: string;
  propertyType: 'msg' | 'full';
  /** custom object: the property giving each value's key. */
  key: string;
  /** custom string/buffer: what goes between the parts. */
  joiner: string;
  joinerType: 'str' | 'bin';
  /** custom: keep adding to the group after it was sent (Node-RED only honours boolean true). */
  accumulate: boolean | string;
  /** custom: use the sequence a message is part of (msg.parts); Node-RED 4 writes false for new nodes (undefined = true). */
  useparts?: boolean;
  /** custom: seconds after the group's first message to send what there is; '' or 0 for none. */
  timeout: number | string;
  /** custom: send after this many messages; '' uses msg.parts.count. */
  count: number | string;
  reduceExp: string;
  reduceInit: string;
  reduceInitType: string;
  reduceFixup: string;
  reduceRight: boolean;
}

/** A group in progress; JSON-serialisable so it can be mirrored into node context. */
interface Group {
  currentCount: number;
  payload: unknown[] | Record<string, unknown>;
  targetCount?: number;
  type: string;
  msg: FlowMessage;
  joinChar?: unknown;
  arrayLen?: number;
  bufferLen?: number;
  /** When the group's timeout fires (epoch ms). */
  deadline?: number;
  /** Automatic mode: the property the sequence was split from (msg.parts.property, Node-RED 4), where the whole goes back. */
  prop?: string;
}

/** A reduce-mode group: the messages received so far and the sequence length once known. */
interface ReduceGroup {
  count?: number;
  msgs: FlowMessage[];
}

const GROUP_PREFIX = 'group:';
const REDUCE_PREFIX = 'reduce:';

/** JSON turns Buffers into {type:'Buffer', data}; turn them back when a buffer group is read from context. */
function reviveBuffer(value: unknown): unknown {
  if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data);
  }
  return value;
}

class Joiner {
  private readonly mode: string;
  private readonly property: string;
  private readonly full: boolean;
  private readonly key: string;
  private readonly timer: number;
  private readonly count: number;
  private readonly countFromParts: boolean;
  private readonly useparts: boolean;
  private readonly joiner: string | Buffer;
  private readonly build: string;
  private readonly accumulate: boolean;
  private readonly reduce?: { exp: CompiledExpression; fixup?: CompiledExpression; init: TypedValue; right: boolean };

  private readonly groups = new Map<string, Group>();
  private readonly reduceGroups = new Map<string, ReduceGroup>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly queue = new SerialQueue();
  private loaded = false;
  private trigger: TriggerContext | undefined;

  constructor(
    props: Partial<JoinProps>,
    contexts: ContextScopes,
    private readonly store: ContextStore,
    private readonly log: Logger,
  ) {
    this.mode = props.mode || 'auto';
    if (!['auto', 'custom', 'reduce'].includes(this.mode)) throw new Error(`unknown mode "${this.mode}"`);
    this.full = props.propertyType === 'full';
    this.property = this.full ? 'payload' : props.property || 'payload';
    this.key = props.key || 'topic';
    assertPropertyExpression(this.property, `property "${this.property}"`);
    assertPropertyExpression(this.key, `key "${this.key}"`);
    this.timer = this.mode === 'auto' ? 0 : Number(props.timeout || 0) * 1000;
    this.count = Number(props.count || 0);
    this.countFromParts = props.count === '';
    this.useparts = props.useparts !== false;
    this.build = props.build || 'array';
    if (!['string', 'array', 'object', 'merged', 'buffer'].includes(this.build)) throw new Error(`unknown build "${this.build}"`);
    this.accumulate = props.accumulate === true;
    if ((props.joinerType || 'str') === 'bin') {
      let bytes: unknown;
      try {
        bytes = JSON.parse(props.joiner || '[]');
      } catch (error) {
        throw new Error(`Invalid joiner: ${(error as Error).message}`);
      }
      if (!Array.isArray(bytes)) throw new Error('Invalid joiner: not an array');
      this.joiner = Buffer.from(bytes as number[]);
    } else this.joiner = unescapeSeparator(props.joiner || '');
    if (this.mode === 'reduce') {
      const fixup = props.reduceFixup ? compileJsonata(props.reduceFixup, contexts, { nodeRedInput: true }) : undefined;
      this.reduce = {
        exp: compileJsonata(props.reduceExp ?? '', contexts, { nodeRedInput: true }),
        fixup,
        // Without a type, Node-RED uses the initial value as it is.
        init: props.reduceInitType
          ? prepareTypedValue(props.reduceInit ?? '', props.reduceInitType, contexts, 'initial value')
          : { type: 'raw', get: async () => props.reduceInit },
        right: props.reduceRight === true,
      };
    }
  }

  start(trigger: TriggerContext): Promise<void> {
    this.trigger = trigger;
    return this.queue.run(() => this.load());
  }

  stop(): void {
    this.trigger = undefined;
    // Groups stay in context: the next instance (redeploy, restart) carries on with them.
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  handle(msg: FlowMessage): Promise<FlowMessage[]> {
    return this.queue.run(async () => {
      this.load();
      return this.mode === 'reduce' ? this.reduceMessage(msg) : this.joinMessage(msg);
    });
  }

  /** Read groups left in context by a previous instance (once), re-arming their timeouts. */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const key of this.store.keys()) {
      if (key.startsWith(GROUP_PREFIX)) {
        const group = this.store.get(key) as Group;
        if (group.type === 'buffer' && Array.isArray(group.payload)) group.payload = group.payload.map(reviveBuffer);
        // A custom joiner may be a Buffer, which JSON does not keep: take it from the config again.
        if (this.mode === 'custom' && group.joinChar !== undefined) group.joinChar = this.joiner;
        const partId = key.substring(GROUP_PREFIX.length);
        this.groups.set(partId, group);
        if (group.deadline !== undefined) this.armTimer(partId, group.deadline);
      } else if (key.startsWith(REDUCE_PREFIX)) {
        this.reduceGroups.set(key.substring(REDUCE_PREFIX.length), this.store.get(key) as ReduceGroup);
      }
    }
  }

  private persist(partId: string): void {
    this.store.set(GROUP_PREFIX + partId, this.groups.get(partId));
  }

  private armTimer(partId: string, deadline: number): void {
    const timer = setTimeout(() => void this.queue.run(() => this.timeout(partId)), Math.max(0, deadline - Date.now()));
    timer.unref(); // a pending group is in context already; it must not keep the process alive
    this.timers.set(partId, timer);
  }

  /** The timeout of a group: send what it has, as a new run starting at this node. */
  private async timeout(partId: string): Promise<void> {
    this.timers.delete(partId);
    if (!this.groups.has(partId)) return;
    const msg = this.completeSend(partId);
    if (!this.trigger) {
      this.log.error(`join: the timeout of group "${partId}" fired but the runtime gave this node no way to send (start() was not called); the partial group was dropped`, msg);
      return;
    }
    await this.trigger.emit(msg);
  }

  /** Build the joined message of a group and end the group (unless accumulating). */
  private completeSend(partId: string): FlowMessage {
    const group = this.groups.get(partId)!;
    const timer = this.timers.get(partId);
    if (timer) clearTimeout(timer);
    this.timers.delete(partId);
    if (!this.accumulate || hasOwn(group.msg, 'complete')) {
      this.groups.delete(partId);
      this.store.set(GROUP_PREFIX + partId, undefined);
    } else {
      delete group.deadline;
    }
    let value: unknown = group.payload;
    if (group.type === 'array' && (group.arrayLen ?? 0) > 1) {
      // Chunks of a split array: flatten them back into one array (Node-RED keeps the flattened array).
      group.payload = ([] as unknown[]).concat(...(group.payload as unknown[]));
      value = group.payload;
    } else if (group.type === 'buffer') {
      value = this.joinBuffers(group);
    }
    if (group.type === 'string') {
      if (group.joinChar === undefined || group.joinChar === null) throw new Error('Cannot join strings: no joiner (msg.parts.ch) is known for this group');
      const joinChar = typeof group.joinChar === 'string' ? group.joinChar : String(group.joinChar);
      setMessageProperty(group.msg, group.prop ?? this.property, (group.payload as unknown[]).join(joinChar));
    } else {
      if (this.full) group.msg = cloneMessage(group.msg);
      setMessageProperty(group.msg, group.prop ?? this.property, value);
    }
    const parts = group.msg.parts as { parts?: unknown } | undefined;
    if (hasOwn(parts, 'parts')) group.msg.parts = parts!.parts;
    else delete group.msg.parts;
    delete group.msg.complete;
    if (this.groups.has(partId)) this.persist(partId);
    return cloneMessage(group.msg);
  }

  private joinBuffers(group: Group): Buffer {
    const items = group.payload as unknown[];
    if (group.joinChar === undefined) return Buffer.concat(items as Buffer[], group.bufferLen);
    const separator = Buffer.from(group.joinChar as string);
    const buffers: Buffer[] = [];
    items.forEach((item, i) => {
      if (i > 0) buffers.push(separator);
      buffers.push(Buffer.isBuffer(item) ? item : Buffer.from(item as string));
    });
    return Buffer.concat(buffers);
  }

  private joinMessage(msg: FlowMessage): FlowMessage[] {
    if (this.mode === 'custom' && !this.useparts && hasOwn(msg, 'parts')) {
      // Node-RED 4's manual mode without "use existing msg.parts": the message's own sequence is ignored (an
      // enclosing one is kept for the joined message).
      const own = msg.parts as Record<string, unknown> | undefined;
      if (hasOwn(own, 'parts')) msg.parts = { parts: own!.parts };
      else delete msg.parts;
    }
    const parts = msg.parts as Record<string, unknown> | undefined;
    if (this.mode === 'auto' && !hasOwn(parts, 'id')) {
      this.log.warn("Message missing msg.parts property - cannot join in 'auto' mode");
      return [];
    }
    // Automatic mode reads (and puts the whole back into) the property the split node split: msg.parts.property.
    const autoProperty = this.mode === 'auto' ? (typeof parts!.property === 'string' && parts!.property) || 'payload' : undefined;
    let property: unknown;
    if (this.full) property = cloneMessage(msg);
    else {
      try {
        property = getMessageProperty(msg, autoProperty ?? this.property);
      } catch {
        this.log.warn(`Message property ${autoProperty ?? this.property} not found`);
        return [];
      }
    }
    let partId: string;
    let payloadType: string;
    let targetCount: number | undefined;
    let joinChar: unknown;
    let propertyKey: unknown;
    let arrayLen: number | undefined;
    let propertyIndex: unknown;
    if (this.mode === 'auto') {
      partId = String(parts!.id);
      payloadType = parts!.type as string;
      targetCount = parts!.count as number | undefined;
      joinChar = parts!.ch;
      propertyKey = parts!.key;
      arrayLen = parts!.len as number | undefined;
      propertyIndex = parts!.index;
    } else {
      partId = '_';
      payloadType = this.build;
      targetCount = this.count;
      joinChar = this.joiner;
      if (this.countFromParts && hasOwn(msg, 'parts')) targetCount = (parts?.count as number) || 0;
      if (this.build === 'object') propertyKey = getMessageProperty(msg, this.key);
    }

    if (hasOwn(msg, 'reset')) {
      if (this.groups.has(partId)) {
        clearTimeout(this.timers.get(partId));
        this.timers.delete(partId);
        this.groups.delete(partId);
        this.store.set(GROUP_PREFIX + partId, undefined);
      }
      return [];
    }

    if (payloadType === 'object' && (propertyKey === null || propertyKey === undefined || propertyKey === '')) {
      if (this.mode === 'auto') this.log.warn("Message missing 'msg.parts.key' property - cannot add to object");
      else if (hasOwn(msg, 'complete')) {
        const group = this.groups.get(partId);
        if (group) {
          group.msg.complete = msg.complete;
          return [this.completeSend(partId)];
        }
      } else this.log.warn(`Message missing key property 'msg.${this.key}' - cannot add to object`);
      return [];
    }

    let group = this.groups.get(partId);
    if (!group) {
      if (payloadType === 'object' || payloadType === 'merged') {
        group = { currentCount: 0, payload: {}, targetCount, type: 'object', msg: cloneMessage(msg) };
      } else {
        group = { currentCount: 0, payload: [], targetCount, type: payloadType, msg: cloneMessage(msg) };
        if (payloadType === 'string') group.joinChar = joinChar;
        else if (payloadType === 'array') group.arrayLen = arrayLen;
        else if (payloadType === 'buffer') {
          group.bufferLen = 0;
          group.joinChar = joinChar;
        }
      }
      if (autoProperty !== undefined && autoProperty !== this.property) group.prop = autoProperty;
      this.groups.set(partId, group);
      if (this.timer > 0) {
        group.deadline = Date.now() + this.timer;
        this.armTimer(partId, group.deadline);
      }
    }

    if (payloadType === 'buffer' && property !== undefined) {
      if (Buffer.isBuffer(property) || typeof property === 'string' || Array.isArray(property)) group.bufferLen! += property.length;
      else {
        this.persist(partId);
        throw new Error(`Cannot join ${typeof property} to buffer`);
      }
    }
    if (payloadType === 'object') {
      const payload = group.payload as Record<string, unknown>;
      payload[String(propertyKey)] = property;
      group.currentCount = Object.keys(payload).length;
    } else if (payloadType === 'merged') {
      if (Array.isArray(property) || typeof property !== 'object') {
        if (!hasOwn(msg, 'complete')) this.log.warn('Cannot merge non-object types');
      } else if (property !== null) {
        const payload = group.payload as Record<string, unknown>;
        for (const [k, v] of Object.entries(property)) if (k !== '_msgid') payload[k] = v;
        group.currentCount = Object.keys(payload).length;
      }
    } else if (!isNaN(propertyIndex as number)) {
      (group.payload as unknown[])[propertyIndex as number] = property;
      group.currentCount++;
    } else if (property !== undefined) {
      (group.payload as unknown[]).push(property);
      group.currentCount++;
    }
    group.msg = Object.assign(group.msg, cloneMessage(msg));
    let target = group.targetCount;
    if (hasOwn(msg, 'parts')) target = group.targetCount || (parts?.count as number | undefined);
    if ((target !== undefined && target > 0 && group.currentCount >= target) || hasOwn(msg, 'complete')) return [this.completeSend(partId)];
    this.persist(partId);
    return [];
  }

  private async reduceMessage(msg: FlowMessage): Promise<FlowMessage[]> {
    const parts = msg.parts as { id?: unknown; index?: number; count?: number } | undefined;
    if (!hasOwn(msg, 'parts')) return [msg];
    const gid = String(parts!.id);
    let group = this.reduceGroups.get(gid);
    if (!group) this.reduceGroups.set(gid, (group = { count: hasOwn(parts, 'count') ? parts!.count : undefined, msgs: [] }));
    if (hasOwn(parts, 'count') && group.count === undefined) group.count = parts!.count;
    group.msgs.push(cloneMessage(msg));
    if (group.msgs.length !== group.count) {
      this.store.set(REDUCE_PREFIX + gid, group);
      return [];
    }
    this.reduceGroups.delete(gid);
    this.store.set(REDUCE_PREFIX + gid, undefined);
    return [await this.reduceGroup(group)];
  }

  /** Node-RED sends the last message folded (its parts, req, reply handle...) with the result as its payload. */
  private async reduceGroup(group: ReduceGroup): Promise<FlowMessage> {
    const { exp, fixup, init, right } = this.reduce!;
    const direction = right ? -1 : 1;
    const index = (m: FlowMessage) => (m.parts as { index: number }).index;
    const msgs = [...group.msgs].sort((x, y) => (index(x) < index(y) ? -direction : index(x) > index(y) ? direction : 0));
    let accumulator = await init.get({});
    for (const m of msgs) accumulator = await exp.evaluate(m, { I: index(m), N: group.count, A: accumulator });
    const last = msgs.at(-1)!;
    last.payload = fixup ? await fixup.evaluate({}, { N: group.count, A: accumulator }) : accumulator;
    return last;
  }
}

export const joinNode = defineNode<JoinProps>({
  type: 'join',
  category: 'flow',
  label: 'join',
  icon: 'merge',
  color: '#E2D96E',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['auto', 'custom', 'reduce'], default: 'auto', title: 'Mode' },
      build: { type: 'string', enum: ['string', 'array', 'object', 'merged', 'buffer'], default: 'array', title: 'Combine each message into (custom)' },
      property: { type: 'string', default: 'payload', title: 'Property to combine (custom)' },
      propertyType: { type: 'string', enum: ['msg', 'full'], default: 'msg', title: 'Combine a property or whole messages' },
      key: { type: 'string', default: 'topic', title: 'Key property (custom object)' },
      joiner: { type: 'string', default: '\\n', title: 'Join with (custom string/buffer)' },
      joinerType: { type: 'string', enum: ['str', 'bin'], default: 'str', title: 'Joiner type' },
      accumulate: { type: ['boolean', 'string'], default: false, title: 'Keep accumulating after sending (custom)' },
      useparts: { type: 'boolean', default: true, title: 'Use the sequence in msg.parts (custom)', description: 'Off: a message\'s msg.parts is ignored, as Node-RED 4 does for new join nodes' },
      timeout: { type: ['number', 'string'], default: '', title: 'Timeout in seconds (custom)' },
      count: { type: ['integer', 'string'], default: '', title: 'Send after this many messages (custom)' },
      reduceExp: { type: 'string', default: '', title: 'Reduce expression (JSONata)' },
      reduceInit: { type: 'string', default: '', title: 'Initial value' },
      reduceInitType: { type: 'string', default: 'num', title: 'Initial value type' },
      reduceFixup: { type: 'string', default: '', title: 'Fix-up expression (JSONata)' },
      reduceRight: { type: 'boolean', default: false, title: 'Evaluate in reverse order' },
    },
  },
  help: `Joins a sequence of messages into one, like Node-RED's *join* node.

### Properties
- **Mode**:
  - \`auto\`: reverses a split node: uses \`msg.parts\` to rebuild the original string, buffer, array or object
    and sends it once every part has arrived.
  - \`custom\`: builds from any messages:
    - **Combine each message into (custom)**: \`string\` (joined with **Join with (custom string/buffer)**), \`buffer\` (joined with **Join with (custom string/buffer)**, or the bytes of a JSON
      array with **Joiner type** \`bin\`), \`array\`, \`object\` (each value stored under the message property named
      by **key**, default \`topic\`) or \`merged\` (the properties of each message's object merged into one);
    - **property**: the message property collected (default \`payload\`); **propertyType** \`full\` collects whole
      messages;
    - sent when **count** messages have arrived (empty: \`msg.parts.count\`; for \`object\` and \`merged\`, when
      the object has **count** keys), when **timeout** seconds have passed
      since the group's first message (what has arrived so far is sent), or when a message with
      \`msg.complete\` arrives; **accumulate** \`true\` keeps adding to the group after it was sent.
      With **useparts** off (what Node-RED 4 writes for a new node), a message's \`msg.parts\` is ignored: the count is
      **count** only, and the joined message keeps no sequence of its own.
  - \`reduce\`: folds a \`msg.parts\` sequence with the JSONata **reduceExp**, evaluated for each message with
    \`$A\` the accumulated value (starting at **reduceInit**, typed by **reduceInitType**: \`num\`, \`str\`, \`json\`,
    \`bool\`, \`jsonata\`, ...), \`$I\` the message's index and \`$N\` the count. **reduceFixup** (optional) turns the
    final \`$A\` into the result; **reduceRight** processes the messages from last to first.

### Inputs
- \`msg.parts\`: the sequence information (\`auto\` and \`reduce\` need it).
- \`msg.complete\`: send the group now. \`msg.reset\`: discard the group without sending.

### Outputs
1. The joined message: the properties of the sequence's messages merged, with the combined value in
   **property**; \`msg.parts\` is removed (or restored to the enclosing sequence). In \`reduce\` mode, a new message
   whose \`payload\` is the result. Messages without \`msg.parts\` pass through reduce mode unchanged.

### Notes
Groups in progress are kept in the node's context and survive a restart of the runtime.
A timeout sends the partial group as a new run that starts at this node.`,
  create({ props, context, log }) {
    const joiner = new Joiner(props, context, context.node, log);
    return {
      onInput: async (msg) => [await joiner.handle(msg)],
      start: (trigger) => joiner.start(trigger),
      stop: () => joiner.stop(),
      close: () => joiner.stop(),
    };
  },
});
