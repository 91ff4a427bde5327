/**
 * switch (Node-RED's "switch" node): route a message to the outputs whose rule matches a property of it.
 * One output port per rule. Same operators, value types and quirks as Node-RED, so imported flows route the same.
 */
import { randomUUID } from 'node:crypto';
import { defineNode, type ContextStore, type FlowMessage, type InputContext, type Logger } from '@flowcrew/sdk';
import { compileJsonata, prepareTypedValue, type CompiledExpression, type ContextScopes, type TypedValue } from '@flowcrew/sdk/util';
import { LimitExceededError } from '@flowcrew/sdk/util';
import { SafeRegExp } from '@flowcrew/sdk/util';
import { assertPropertyExpression } from '@flowcrew/sdk/util';
import { cloneMessage, hasOwn } from '@flowcrew/sdk/util';
import { SerialQueue } from './queue.ts';
import { operators, type Parts } from './switch-operators.ts';
import { CarriedState, invocationKey } from '../sequence/kept-state.ts';

export const SWITCH_OPERATORS = [
  'eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'btwn', 'cont', 'regex', 'true', 'false', 'null', 'nnull',
  'istype', 'empty', 'nempty', 'head', 'tail', 'index', 'hask', 'jsonata_exp', 'else',
] as const;
type Operator = (typeof SWITCH_OPERATORS)[number];

/** How the editor names each operator (Node-RED's labels). */
const OPERATOR_TITLES: Record<Operator, string> = {
  eq: '==', neq: '!=', lt: '<', lte: '<=', gt: '>', gte: '>=', btwn: 'is between', cont: 'contains', regex: 'matches regex',
  true: 'is true', false: 'is false', null: 'is null', nnull: 'is not null', istype: 'is of type', empty: 'is empty',
  nempty: 'is not empty', head: 'head', tail: 'tail', index: 'index between', hask: 'has key', jsonata_exp: 'JSONata expression is true', else: 'otherwise',
};

/** A rule value's types; for "is of type" the type name is stored as its type too, as Node-RED does. */
const VALUE_TYPES = ['str', 'num', 'bool', 'json', 'bin', 're', 'date', 'msg', 'flow', 'global', 'jsonata', 'env', 'prev', 'string', 'number', 'boolean', 'array', 'buffer', 'object', 'null', 'undefined'];
const VALUE_TYPE_TITLES: Record<string, string> = {
  str: 'text', num: 'number', bool: 'boolean', json: 'JSON', bin: 'buffer', re: 'regular expression', date: 'timestamp', msg: 'msg.', flow: 'flow.',
  global: 'global.', jsonata: 'JSONata expression', env: 'env variable', prev: 'previous value',
};

export interface SwitchRule {
  t: Operator;
  v?: unknown;
  vt?: string;
  v2?: unknown;
  v2t?: string;
  /** Ignore case (regex rule). */
  case?: boolean;
}

export interface SwitchProps {
  property: string;
  propertyType: 'msg' | 'flow' | 'global' | 'jsonata' | 'env';
  rules: SwitchRule[];
  /** 'true': send to every matching output; 'false': stop at the first match. Strings, as Node-RED stores them. */
  checkall: 'true' | 'false';
  /** Node-RED's "recreate message sequences": accepted for imported flows, not applied. */
  repair?: boolean;
}

type Operand =
  | { kind: 'prev' }
  | { kind: 'jsonata'; expression: CompiledExpression }
  | { kind: 'const'; value: unknown }
  | { kind: 'typed'; value: TypedValue }
  | { kind: 'none' };

interface PreparedRule {
  t: Operator;
  v1: Operand;
  v2: Operand;
  ignoreCase: boolean | undefined;
  /** A regex rule with a constant pattern, compiled at deploy. */
  regex?: SafeRegExp;
}

/** Node-RED infers a missing value type: numeric-looking values are numbers. */
function inferType(value: unknown): string {
  return isNaN(Number(value)) ? 'str' : 'num';
}

function prepareOperand(value: unknown, type: string, contexts: ContextScopes, where: string): Operand {
  if (type === 'prev') return { kind: 'prev' };
  if (type === 'jsonata') return { kind: 'jsonata', expression: compileJsonata(String(value ?? ''), contexts, { nodeRedInput: true }) };
  if (type === 'num') return { kind: 'const', value: isNaN(Number(value)) ? value : Number(value) };
  return { kind: 'typed', value: prepareTypedValue(value, type, contexts, where) };
}

function prepareRule(rule: SwitchRule, index: number, contexts: ContextScopes, log: Logger): PreparedRule {
  const where = `rule ${index + 1}`;
  if (!SWITCH_OPERATORS.includes(rule.t)) throw new Error(`${where}: unknown operator "${String(rule.t)}"`);
  const vt = rule.vt || inferType(rule.v);
  let v1: Operand;
  // "is of type" JSON/null rules carry their type name as the value type; Node-RED hands the name over as is.
  if (vt === 'json' || vt === 'null') v1 = { kind: 'const', value: vt };
  else v1 = prepareOperand(rule.v, vt, contexts, `${where} value`);
  let v2: Operand = { kind: 'none' };
  if (rule.v2 !== undefined) {
    const v2t = rule.v2t || inferType(rule.v2);
    v2 = v2t === 'num' ? { kind: 'const', value: Number(rule.v2) } : prepareOperand(rule.v2, v2t, contexts, `${where} second value`);
  }
  let regex: SafeRegExp | undefined;
  if (rule.t === 'regex' && (vt === 'str' || vt === 're')) {
    try {
      regex = new SafeRegExp(String(rule.v ?? ''), rule.case ? 'i' : '');
    } catch (error) {
      throw new Error(`${where}: invalid regular expression: ${(error as Error).message}`);
    }
    const reason = regex.backtrackingReason(false);
    if (reason) log.warn(`${where}: /${regex.source}/ runs on JavaScript's backtracking engine (${reason}), with a time limit per message`);
  }
  return { t: rule.t, v1, v2, ignoreCase: rule.case, regex };
}

/** Routing one message: the outputs so far, whether an "otherwise" rule would match, whether the message went out. */
interface RouteState {
  onward: Array<FlowMessage | null>;
  elseFlag: boolean;
  sent: boolean;
}

/** A synchronous router's operand (const, none or a typed value with getSync); an unreadable value is undefined. */
function operandSync(operand: Operand, msg: FlowMessage): unknown {
  if (operand.kind === 'const') return operand.value;
  if (operand.kind !== 'typed') return undefined;
  try {
    return operand.value.getSync!(msg);
  } catch {
    return undefined;
  }
}

/** What the node carries between messages, kept in context: the previous value and the sequences "tail" holds. */
interface SwitchState {
  prev: unknown;
  pending: Array<[unknown, { count?: number; msgs: FlowMessage[] }]>;
}

class SwitchRouter {
  private previousValue: unknown = null;
  private readonly property: CompiledExpression | TypedValue;
  private readonly rules: PreparedRule[];
  private readonly stopAtFirst: boolean;
  /** "tail" rules need a sequence's count: its messages wait here until the whole sequence has arrived. */
  private readonly needsCount: boolean;
  /** "Recreate message sequences": each output's messages of a sequence become a sequence of their own. */
  private readonly repair: boolean;
  private pending = new Map<unknown, { count?: number; msgs: FlowMessage[] }>();
  private readonly queue = new SerialQueue();
  /** Only when a rule reads the previous value or holds sequences: nothing else outlives a message. */
  private readonly carried: CarriedState<SwitchState> | undefined;
  /**
   * No JSONata, no carried state: every value is read synchronously (TypedValue.getSync), so a message is routed and
   * answered without a promise, the serial queue or a microtask turn per value (as the change node does). Each
   * message is then handled to its end before the next one arrives: the queue's order holds without it.
   */
  private readonly synchronous: boolean;

  constructor(props: SwitchProps, contexts: ContextScopes & { node: ContextStore }, log: Logger) {
    const propertyType = props.propertyType || 'msg';
    const property = props.property ?? 'payload';
    if (!['msg', 'flow', 'global', 'jsonata', 'env'].includes(propertyType)) throw new Error(`unknown property type "${propertyType}"`);
    if (propertyType === 'msg') assertPropertyExpression(property, `property "${property}"`);
    this.property = propertyType === 'jsonata' ? compileJsonata(property, contexts, { nodeRedInput: true }) : prepareTypedValue(property, propertyType, contexts, 'property');
    this.rules = (props.rules ?? []).map((rule, i) => prepareRule(rule, i, contexts, log));
    this.stopAtFirst = (props.checkall as unknown) == 'false';
    this.repair = props.repair === true || (props.repair as unknown) === 'true';
    this.needsCount = this.repair || this.rules.some((rule) => rule.t === 'tail');
    const usesPrev = this.rules.some((rule) => rule.v1.kind === 'prev' || rule.v2.kind === 'prev');
    if (this.needsCount || usesPrev) this.carried = new CarriedState<SwitchState>(contexts.node, 'switch:state', log, { prev: null, pending: [] });
    const syncOperand = (o: Operand) => o.kind === 'const' || o.kind === 'none' || (o.kind === 'typed' && o.value.getSync !== undefined);
    this.synchronous = !this.carried && !('evaluate' in this.property) && this.property.getSync !== undefined && this.rules.every((rule) => syncOperand(rule.v1) && syncOperand(rule.v2));
  }

  handle(msg: FlowMessage, ctx: InputContext) {
    if (this.synchronous) return this.routeSync(msg);
    if (!this.carried) return this.queue.run(() => this.handleOne(msg, ctx));
    const carried = this.carried;
    return this.queue.run(async () => {
      const inv = invocationKey(ctx);
      const before = carried.begin(inv);
      this.previousValue = before.prev;
      this.pending = new Map(before.pending.map(([id, group]) => [id, { count: group.count, msgs: [...group.msgs] }]));
      const out = await this.handleOne(msg, ctx);
      const after: SwitchState = { prev: this.previousValue, pending: [...this.pending] };
      if (after.prev !== before.prev || after.pending.length > 0 || before.pending.length > 0) carried.end(inv, before, after);
      return out;
    });
  }

  private async handleOne(msg: FlowMessage, ctx: InputContext) {
    const parts = msg.parts as Record<string, unknown> | undefined;
    const hasParts = hasOwn(parts, 'id') && hasOwn(parts, 'index');
    if (!this.needsCount || !hasParts) return this.route(msg, ctx);
    // Hold the sequence until all of it is here, then route each message knowing the count.
    const id = parts!.id;
    let group = this.pending.get(id);
    if (!group) this.pending.set(id, (group = { msgs: [] }));
    group.msgs.push(msg);
    if (hasOwn(parts, 'count')) group.count = parts!.count as number;
    if (group.count !== group.msgs.length) return undefined;
    this.pending.delete(id);
    // Copies: the held messages are also the state a retry of this invocation starts from.
    const onwards: Array<Array<FlowMessage | null>> = [];
    for (const held of group.msgs.map((m) => cloneMessage(m))) {
      (held.parts as Parts).count = group.count;
      const ports = await this.route(held, ctx);
      if (!this.repair) ports?.forEach((out, port) => out && ctx.send(out, port));
      else if (ports) onwards.push(ports);
    }
    if (this.repair) this.sendRepaired(onwards, ctx);
    return undefined;
  }

  /**
   * Node-RED's sendGroup: per output, a new sequence id, indexes in order and the count of that output's messages.
   * As Node-RED, the number of outputs is the last message's (shorter when "stop at the first match" stopped early)
   * and a rule not reached counts as sent.
   */
  private sendRepaired(onwards: Array<Array<FlowMessage | null>>, ctx: InputContext): void {
    const portCount = onwards.at(-1)?.length ?? 0;
    const counts = Array.from({ length: portCount }, (_v, j) => onwards.filter((o) => o[j] !== null).length);
    const ids = counts.map(() => randomUUID());
    const indexes = counts.map(() => 0);
    for (const onward of onwards) {
      for (let j = 0; j < portCount; j++) {
        const msg = onward[j];
        if (!msg) continue;
        const copy = cloneMessage(msg);
        copy.parts = { ...(copy.parts as Parts), id: ids[j], index: indexes[j]!, count: counts[j] };
        indexes[j]!++;
        ctx.send(copy, j);
      }
    }
  }

  /** Evaluate the rules for one message: one entry per rule (until the first match with stopAtFirst). */
  private async route(msg: FlowMessage, ctx: InputContext): Promise<Array<FlowMessage | null> | undefined> {
    if (this.rules.length === 0) return [];
    let property: unknown;
    if ('evaluate' in this.property) {
      try {
        property = await this.property.evaluate(msg);
      } catch (error) {
        // A hostile message fails; an expression that merely errors drops the message, as in Node-RED.
        if (error instanceof LimitExceededError) throw error;
        ctx.log.warn((error as Error).message);
        return undefined;
      }
    } else {
      try {
        property = await this.property.get(msg);
      } catch {
        property = undefined;
      }
    }
    const parts = msg.parts as Parts | undefined;
    const hasParts = hasOwn(parts, 'id') && hasOwn(parts, 'index');
    const state: RouteState = { onward: [], elseFlag: true, sent: false };
    for (const rule of this.rules) {
      const v1 = await this.operand(rule.v1, msg, rule.t === 'jsonata_exp' && hasParts ? { I: parts!.index, N: parts!.count } : undefined);
      const v2 = await this.operand(rule.v2, msg);
      if (this.apply(rule, msg, property, v1, v2, parts, state)) break;
    }
    this.previousValue = property;
    return state.onward;
  }

  /** route() for a synchronous router (see `synchronous`): the same reads, in the same order, without promises. */
  private routeSync(msg: FlowMessage): Array<FlowMessage | null> {
    if (this.rules.length === 0) return [];
    let property: unknown;
    try {
      property = (this.property as TypedValue).getSync!(msg);
    } catch {
      property = undefined;
    }
    const parts = msg.parts as Parts | undefined;
    const state: RouteState = { onward: [], elseFlag: true, sent: false };
    for (const rule of this.rules) {
      if (this.apply(rule, msg, property, operandSync(rule.v1, msg), operandSync(rule.v2, msg), parts, state)) break;
    }
    this.previousValue = property;
    return state.onward;
  }

  /** One rule with its values read: records the output's message or null; true when routing stops here. */
  private apply(rule: PreparedRule, msg: FlowMessage, property: unknown, v1: unknown, v2: unknown, parts: Parts | undefined, state: RouteState): boolean {
    let subject = property;
    if (rule.t === 'else') {
      subject = state.elseFlag;
      state.elseFlag = true;
    }
    const matched = rule.regex ? rule.regex.test(subject + '') : operators[rule.t](subject, v1, v2, rule.ignoreCase, parts);
    if (!matched) {
      state.onward.push(null);
      return false;
    }
    // The first output gets the message itself, the others copies, as Node-RED's send does.
    state.onward.push(state.sent ? cloneMessage(msg) : msg);
    state.sent = true;
    state.elseFlag = false;
    return this.stopAtFirst;
  }

  private async operand(operand: Operand, msg: FlowMessage, bindings?: Record<string, unknown>): Promise<unknown> {
    switch (operand.kind) {
      case 'prev':
        return this.previousValue;
      case 'jsonata':
        return operand.expression.evaluate(msg, bindings);
      case 'const':
        return operand.value;
      case 'typed':
        try {
          return await operand.value.get(msg);
        } catch {
          return undefined;
        }
      case 'none':
        return undefined;
    }
  }
}

export const switchNode = defineNode<SwitchProps>({
  type: 'switch',
  category: 'flow',
  label: 'switch',
  icon: 'call_split',
  color: '#E2D96E',
  inputs: 1,
  outputs: { prop: 'rules' },
  props: {
    type: 'object',
    required: ['property', 'rules'],
    properties: {
      property: { type: 'string', default: 'payload', title: 'Property', description: 'The property to test (a path, context key or JSONata expression).' },
      propertyType: { type: 'string', enum: ['msg', 'flow', 'global', 'jsonata', 'env'], default: 'msg', title: 'Property type' },
      rules: {
        type: 'array',
        title: 'Rules',
        default: [{ t: 'eq', v: '', vt: 'str' }],
        items: {
          type: 'object',
          required: ['t'],
          properties: {
            t: { type: 'string', enum: [...SWITCH_OPERATORS], 'x-enumTitles': SWITCH_OPERATORS.map((op) => OPERATOR_TITLES[op]), title: 'Operator' },
            v: { type: ['string', 'number', 'boolean', 'null'], title: 'Value' },
            vt: { type: 'string', enum: VALUE_TYPES, 'x-enumTitles': VALUE_TYPES.map((t) => VALUE_TYPE_TITLES[t] ?? t), title: 'Value type' },
            v2: { type: ['string', 'number', 'boolean', 'null'], title: 'Second value' },
            v2t: { type: 'string', enum: VALUE_TYPES, 'x-enumTitles': VALUE_TYPES.map((t) => VALUE_TYPE_TITLES[t] ?? t), title: 'Second value type' },
            case: { type: 'boolean', title: 'Ignore case' },
          },
          // Only the values an operator reads are shown (the editor follows these conditions).
          allOf: [
            { if: { properties: { t: { enum: ['eq', 'neq', 'lt', 'lte', 'gt', 'gte', 'cont', 'hask', 'head', 'tail', 'jsonata_exp'] } }, required: ['t'] }, then: { properties: { v: {}, vt: {} } } },
            { if: { properties: { t: { const: 'regex' } }, required: ['t'] }, then: { properties: { v: { title: 'Regular expression' }, vt: {}, case: {} } } },
            { if: { properties: { t: { const: 'istype' } }, required: ['t'] }, then: { properties: { v: { title: 'Type name' }, vt: {} } } },
            { if: { properties: { t: { enum: ['btwn', 'index'] } }, required: ['t'] }, then: { properties: { v: { title: 'From' }, vt: {}, v2: { title: 'To' }, v2t: {} } } },
          ],
        },
      },
      checkall: { type: 'string', enum: ['true', 'false'], default: 'true', title: 'Check all rules', description: '"false" stops at the first matching rule.' },
      repair: { type: 'boolean', default: false, title: 'Recreate message sequences' },
    },
  },
  help: `Routes each message to the outputs whose rule matches, like Node-RED's *switch* node.
The node has one output per rule.

### Properties
- **Property**: what to test: a message property (\`msg.\`, e.g. \`payload.temperature\`), a \`flow.\` or
  \`global.\` context key, a JSONata expression evaluated against the message, or an env variable (not available
  to flows: it reads as an empty string).
- **Rules**: one per output. Each has an **Operator** and, when the operator needs one, a **Value** read as its
  type (text, number, boolean, JSON, regular expression, timestamp, \`msg.\`/\`flow.\`/\`global.\`, JSONata
  expression, env variable, or *previous value*: the property's value for the previous message). Operators:
  - \`==\` \`!=\` \`<\` \`<=\` \`>\` \`>=\`: compare (loosely, as JavaScript's \`==\` and \`<\` do);
  - *is between* **From** and **To**, inclusive; *contains*; *matches regex* (**Ignore case** to ignore case);
  - *is true*, *is false*, *is null* (or missing), *is not null*, *is empty* (string, array, buffer or object),
    *is not empty*;
  - *is of type* **Type name**: \`string\`, \`number\`, \`boolean\`, \`array\`, \`buffer\`, \`object\`,
    \`json\` (a string holding valid JSON), \`null\` or \`undefined\`;
  - *has key*: the property (an object) has the key **Value**;
  - *head*, *tail*, *index between*: for message sequences (\`msg.parts\`): among the first **Value**, among the
    last **Value**, index between **From** and **To**. With a *tail* rule, messages of a sequence are held until
    the whole sequence has arrived (held in the node's context, so a restart carries on with them, as does the
    *previous value*);
  - *JSONata expression is true*: the expression in **Value** is true (\`$I\` and \`$N\` give the sequence index
    and count);
  - *otherwise*: none of the rules before it matched.
- **Check all rules**: \`true\` sends to every matching output; \`false\` stops at the first match.
- **Recreate message sequences** (Node-RED's option) is accepted in imported flows but not applied: messages
  keep the \`msg.parts\` they arrived with.

### Inputs
Any message.

### Outputs
One per rule: the message, on every output whose rule matched.

### Errors
Invalid JSONata expressions and regular expressions are reported when the flow is deployed.
A JSONata rule that fails on a message fails the message; a JSONata property that fails is logged as a warning
and the message is dropped (as Node-RED does).

### Limits
Regular expressions run on a linear-time engine (RE2), so no input makes them hang. A pattern it cannot run
(lookahead, backreferences) keeps JavaScript's engine, with a warning at deploy and a time limit per message
(\`FLOWCREW_REGEX_TIMEOUT_MS\`, 100 ms). JSONata expressions have time, depth, size and memory limits
(\`FLOWCREW_EXPRESSION_TIMEOUT_MS\`, 1000 ms, and others). A message that exceeds a limit fails with an error naming
it, even where an ordinary error would only drop the message.`,
  create(init) {
    const router = new SwitchRouter(init.props, init.context, init.log);
    return { onInput: (msg, ctx) => router.handle(msg, ctx) };
  },
});
