/**
 * sort: Node-RED's sort node. Sorts an array held in a message property, or a sequence of messages (msg.parts,
 * as a split node makes them): the sequence's messages are held until its last one arrives, then all leave in
 * order, from the invocation that completed the sequence. Unfinished sequences are mirrored into the node's context,
 * so a restart (or redeploy) carries on with them, as join's groups do.
 */
import { defineNode, type FlowMessage, type Logger } from '@flowcrew/sdk';
import { compileJsonata, type CompiledExpression } from '@flowcrew/sdk/util';
import { hasOwn } from '@flowcrew/sdk/util';
import { assertPropertyExpression, getMessagePropertyOrUndefined, setMessageProperty } from '@flowcrew/sdk/util';
import { SerialQueue } from '../transform/queue.ts';
import { KeptState } from './kept-state.ts';

export interface SortProps {
  order: 'ascending' | 'descending';
  /** Compare the keys as numbers. */
  as_num: boolean;
  /** msg: sort the array in `target`; seq: sort a message sequence. */
  targetType: 'msg' | 'seq';
  target: string;
  /** msg mode: elem compares the elements themselves, jsonata a key computed from each (msgKey). */
  msgKeyType: 'elem' | 'jsonata';
  msgKey: string;
  /** seq mode: msg compares a property of each message (seqKey), jsonata a key computed from each message. */
  seqKeyType: 'msg' | 'jsonata';
  seqKey: string;
}

/** At most this many messages wait in unfinished sequences (Node-RED's nodeMessageBufferMaxLength, here always on). */
export const SORT_MAX_PENDING = 10_000;

type Keyed<T> = { item: T; key: unknown };
type Pending = { count?: number; msgs: FlowMessage[]; seq: number };


function comparator(dir: number, asNumber: boolean) {
  const conv = (x: unknown) => (asNumber ? Number(x) : x) as number;
  return (a: Keyed<unknown>, b: Keyed<unknown>) => {
    const x = conv(a.key);
    const y = conv(b.key);
    if (x === y) return 0;
    return x > y ? dir : -dir;
  };
}

class Sorter {
  private readonly queue = new SerialQueue();
  private readonly pending = new Map<string, Pending>();
  private loaded = false;
  private pendingCount = 0;
  private nextSeq = 0;
  private readonly dir: number;
  private readonly expression?: CompiledExpression;
  private readonly keyProperty: string;

  constructor(
    private readonly props: Partial<SortProps>,
    contexts: Parameters<typeof compileJsonata>[1],
    private readonly log: Logger,
    private readonly kept: KeptState,
  ) {
    this.dir = props.order === 'descending' ? -1 : 1;
    const isMsg = props.targetType !== 'seq';
    const keyIsExpression = isMsg ? props.msgKeyType === 'jsonata' : props.seqKeyType === 'jsonata';
    this.keyProperty = props.seqKey || 'payload';
    if (keyIsExpression) this.expression = compileJsonata((isMsg ? props.msgKey : props.seqKey) ?? '', contexts);
    if (isMsg) assertPropertyExpression(props.target || 'payload', 'target');
    else if (!keyIsExpression) assertPropertyExpression(this.keyProperty, 'key');
  }

  handle(msg: FlowMessage): Promise<FlowMessage[]> {
    return this.queue.run(() => (this.props.targetType === 'seq' ? this.sequence(msg) : this.property(msg)));
  }

  /** Sequences a previous instance left unfinished (read once). */
  private load(): void {
    if (this.loaded) return;
    this.loaded = true;
    for (const [id, value] of this.kept.entries()) {
      const group = value as Pending;
      this.pending.set(id, group);
      this.pendingCount += group.msgs.length;
      this.nextSeq = Math.max(this.nextSeq, group.seq + 1);
    }
  }

  private forget(id: string): void {
    this.pending.delete(id);
    this.kept.delete(id);
  }

  private async sorted<T>(items: T[], key: (item: T) => unknown | Promise<unknown>): Promise<T[]> {
    const keyed: Keyed<T>[] = [];
    for (const item of items) keyed.push({ item, key: await key(item) });
    return keyed.sort(comparator(this.dir, this.props.as_num === true)).map((k) => k.item);
  }

  /** Sort the array in the target property; a message without an array there is dropped (as in Node-RED). */
  private async property(msg: FlowMessage): Promise<FlowMessage[]> {
    const target = this.props.target || 'payload';
    const data = getMessagePropertyOrUndefined(msg, target);
    if (!Array.isArray(data)) return [];
    const expression = this.expression;
    const sorted = await this.sorted(data, (elem) => (expression ? expression.evaluate(elem) : elem));
    setMessageProperty(msg, target, sorted);
    return [msg];
  }

  private async sequence(msg: FlowMessage): Promise<FlowMessage[]> {
    this.load();
    const parts = msg.parts as { id?: unknown; index?: unknown; count?: unknown } | undefined;
    if (!parts || !hasOwn(parts, 'id') || !hasOwn(parts, 'index')) return [];
    const id = String(parts.id);
    let group = this.pending.get(id);
    if (!group) {
      group = { msgs: [], seq: this.nextSeq++ };
      this.pending.set(id, group);
    }
    group.msgs.push(msg);
    if (hasOwn(parts, 'count')) group.count = Number(parts.count);
    this.pendingCount++;
    if (group.count === group.msgs.length) {
      this.forget(id);
      this.pendingCount -= group.msgs.length;
      const expression = this.expression;
      const sorted = await this.sorted(group.msgs, (m) => (expression ? expression.evaluate(m) : getMessagePropertyOrUndefined(m, this.keyProperty)));
      sorted.forEach((m, i) => ((m.parts as { index: number }).index = i));
      return sorted;
    }
    if (this.pendingCount > SORT_MAX_PENDING) {
      // Drop the oldest unfinished sequence, as Node-RED does past its buffer limit.
      const oldest = [...this.pending.entries()].sort((a, b) => a[1].seq - b[1].seq)[0]!;
      this.forget(oldest[0]);
      this.pendingCount -= oldest[1].msgs.length;
      this.log.warn(`sort: more than ${SORT_MAX_PENDING} messages waiting; the oldest unfinished sequence (${oldest[1].msgs.length} messages) was dropped`);
    } else this.kept.set(id, group);
    return [];
  }

}

export const sortNode = defineNode<Partial<SortProps>>({
  type: 'sort',
  category: 'flow',
  label: 'sort',
  icon: 'sort',
  color: '#e2d96e',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      order: { type: 'string', enum: ['ascending', 'descending'], default: 'ascending', title: 'Order' },
      as_num: { type: 'boolean', default: false, title: 'Compare as numbers' },
      targetType: { type: 'string', enum: ['msg', 'seq'], default: 'msg', title: 'Sort', description: 'msg: an array in a message property; seq: a message sequence' },
      target: { type: 'string', default: 'payload', title: 'Array property (msg)' },
      msgKeyType: { type: 'string', enum: ['elem', 'jsonata'], default: 'elem', title: 'Key (msg)', description: 'elem: the elements; jsonata: an expression over each element' },
      msgKey: { type: 'string', default: 'payload', title: 'Key expression (msg)' },
      seqKeyType: { type: 'string', enum: ['msg', 'jsonata'], default: 'msg', title: 'Key (seq)', description: 'msg: a message property; jsonata: an expression over each message' },
      seqKey: { type: 'string', default: 'payload', title: 'Key (seq)' },
    },
  },
  help: `Sorts an array property or a sequence of messages. Works like Node-RED's sort node.

### Properties
- **Sort**: \`msg\` sorts the array in **Array property (msg)** (default \`payload\`); \`seq\` sorts a sequence of messages carrying \`msg.parts\`
  (from a split node, for instance).
- **Key (msg)** (\`msg\`): \`elem\` compares the elements; \`jsonata\` compares the value of the expression **Key expression (msg)** on each element.
- **Key (seq)** (\`seq\`): \`msg\` compares the message property **Key (seq)**; \`jsonata\` the expression **Key (seq)** on each message.
- **Order**: \`ascending\` or \`descending\`; **Compare as numbers**: compare the keys as numbers.

### Input and output
- \`msg\`: the message, with its array sorted. A message without an array there is dropped.
- \`seq\`: the messages of a sequence are held until all \`msg.parts.count\` have arrived, then sent in order with
  \`msg.parts.index\` renumbered. Messages without \`msg.parts\` are dropped. At most ${SORT_MAX_PENDING} messages wait.

### Notes
Unfinished sequences are kept in the node's context and survive a restart of the runtime.
`,
  create({ props, context, log }) {
    const sorter = new Sorter(props, context, log, new KeptState(context.node, 'sort:', log));
    return {
      onInput: async (msg) => [await sorter.handle(msg)],
    };
  },
});
