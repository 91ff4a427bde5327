/**
 * The join node's groups in progress (join.ts): built message by message, kept in memory and mirrored into the
 * node's context so a restart picks them up; sent when complete, on timeout (a run started through the
 * TriggerContext) or by msg.complete; reduce mode folds each group with its JSONata expressions.
 */
import type { ContextStore, FlowMessage, Logger, TriggerContext } from '@flowcrew/sdk';
import { compileJsonata, prepareTypedValue, type CompiledExpression, type ContextScopes, type TypedValue } from '@flowcrew/sdk/util';
import { assertPropertyExpression, getMessageProperty, setMessageProperty } from '@flowcrew/sdk/util';
import { cloneMessage, hasOwn } from '@flowcrew/sdk/util';
import type { JoinProps } from './join.ts';
import { SerialQueue } from './queue.ts';
import { unescapeSeparator } from './split.ts';
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

export class Joiner {
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
