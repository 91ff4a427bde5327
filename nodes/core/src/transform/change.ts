/**
 * change (Node-RED's "change" node): set, change (search/replace), delete and move message, flow and global
 * properties, rule by rule, with Node-RED's exact semantics so imported flows behave the same.
 */
import { defineNode, type FlowMessage, type InputContext, type Logger } from '@flowcrew/sdk';
import { prepareTypedValue, type ContextScopes, type TypedValue } from '@flowcrew/sdk/util';
import { assertPropertyExpression, contextKey, getContextValue, getMessageProperty, setContextValue, setMessageProperty } from '@flowcrew/sdk/util';
import { cloneMessage } from '@flowcrew/sdk/util';
import { SafeRegExp } from '@flowcrew/sdk/util';

export interface ChangeRule {
  t: 'set' | 'change' | 'delete' | 'move';
  p: string;
  pt?: 'msg' | 'flow' | 'global';
  to?: unknown;
  tot?: string;
  from?: unknown;
  fromt?: string;
  dc?: boolean;
  /** Legacy (pre-typed) change rules: from is a regular expression. */
  re?: boolean;
}

export interface ChangeProps {
  rules: ChangeRule[];
  /** Legacy single-rule form of very old Node-RED flows. */
  action?: string;
  property?: string;
  from?: string;
  to?: string;
  reg?: boolean;
}

const TO_TYPES = ['msg', 'flow', 'global', 'str', 'num', 'bool', 'json', 'bin', 'date', 'jsonata', 'env'];

/** A rule after Node-RED's migration and deploy-time preparation. */
interface PreparedRule {
  t: ChangeRule['t'];
  p: string;
  pt: 'msg' | 'flow' | 'global';
  to: string;
  tot: string;
  value?: TypedValue;
  from: string;
  fromt: string;
  fromRE?: RegExp;
  dc: boolean;
}

/** Where the 'from' of a change rule stands for one message. */
interface FromValue {
  fromType?: string;
  fromValue?: unknown;
  fromRE?: RegExp;
}

const escapeRegExp = (s: string) => s.replace(/[-[\]{}()*+?.,\\^$|#\s]/g, '\\$&');

/** Node-RED's constructor: migrate legacy rules and check/compile everything that can fail, once. */
function prepareRules(props: ChangeProps, contexts: ContextScopes, log: Logger): PreparedRule[] {
  let rules = props.rules;
  if (!rules) {
    const t = (props.action === 'replace' ? 'set' : props.action) as ChangeRule['t'];
    const rule: ChangeRule = { t, p: props.property || '' };
    if (t === 'set' || t === 'move') rule.to = props.to || '';
    else if (t === 'change') Object.assign(rule, { from: props.from || '', to: props.to || '', re: props.reg === null || props.reg });
    rules = [rule];
  }
  return rules.map((raw, index) => {
    const where = `rule ${index + 1}`;
    if (!['set', 'change', 'delete', 'move'].includes(raw.t)) throw new Error(`${where}: unknown action "${String(raw.t)}"`);
    let to = raw.to === undefined || raw.to === null ? '' : String(raw.to);
    let tot = raw.tot;
    let fromt = raw.fromt;
    if (raw.t === 'change' && raw.re) fromt = 're';
    if (raw.t === 'set' && !tot && to.startsWith('msg.')) {
      to = to.substring(4);
      tot = 'msg';
    }
    tot ||= 'str';
    fromt ||= 'str';
    const pt = raw.pt || 'msg';
    if (!['msg', 'flow', 'global'].includes(pt)) throw new Error(`${where}: unknown property type "${pt}"`);
    if (!TO_TYPES.includes(tot)) throw new Error(`${where}: unknown value type "${tot}"`);
    if (pt === 'msg' && raw.p) assertPropertyExpression(raw.p, `${where}: property "${raw.p}"`);
    const rule: PreparedRule = { t: raw.t, p: raw.p ?? '', pt, to, tot, from: raw.from === undefined || raw.from === null ? '' : String(raw.from), fromt, dc: raw.dc === true };
    if (rule.t === 'set' || rule.t === 'change') {
      if (tot === 'msg' && to) assertPropertyExpression(to, `${where}: value "msg.${to}"`);
      rule.value = prepareTypedValue(to, tot, contexts, `${where} value`);
    }
    if (rule.t === 'change' && !['msg', 'flow', 'global'].includes(fromt)) {
      try {
        // A user's pattern runs on a regex that cannot stall the runtime; an escaped literal cannot backtrack.
        rule.fromRE = fromt === 're' ? new SafeRegExp(rule.from, 'g') : new RegExp(escapeRegExp(rule.from), 'g');
      } catch (error) {
        throw new Error(`${where}: Invalid 'from' property: ${(error as Error).message}`);
      }
      const reason = rule.fromRE instanceof SafeRegExp ? rule.fromRE.backtrackingReason() : undefined;
      if (reason) log.warn(`${where}: /${rule.from}/ runs on JavaScript's backtracking engine (${reason}), with a time limit per message`);
    }
    if (rule.t === 'move' && !['msg', 'flow', 'global'].includes(tot)) throw new Error(`${where}: move target type must be msg, flow or global`);
    return rule;
  });
}

/** The type of a dynamic 'from' value (read from msg/flow/global), as Node-RED classifies it. */
function classifyFrom(fromValue: unknown): FromValue {
  if (typeof fromValue === 'number') return { fromType: 'num', fromValue };
  if (typeof fromValue === 'boolean') return { fromType: 'bool', fromValue };
  if (fromValue instanceof RegExp) return { fromType: 're', fromValue, fromRE: fromValue instanceof SafeRegExp ? fromValue : new SafeRegExp(fromValue) };
  if (typeof fromValue === 'string') return { fromType: 'str', fromValue, fromRE: new RegExp(escapeRegExp(fromValue), 'g') };
  throw new Error(`Invalid 'from' property: unsupported type: ${typeof fromValue}`);
}

/** Node-RED's search/replace on one current value; returns [changed, newValue]. */
function replaceValue(current: unknown, from: FromValue, value: unknown): [boolean, unknown] {
  const { fromType, fromValue, fromRE } = from;
  if (typeof current === 'string') {
    // A string equal to the exact number/boolean/string sought is replaced whole, keeping the new value's type.
    if ((fromType === 'num' || fromType === 'bool' || fromType === 'str') && current === fromValue) return [true, value];
    // String.replace with an undefined pattern searches for "undefined", as it does in Node-RED.
    return [true, current.replace(fromRE as RegExp, String(value))];
  }
  if (typeof current === 'number' && fromType === 'num') return current == Number(fromValue) ? [true, value] : [false, undefined];
  if (typeof current === 'boolean' && fromType === 'bool') return current.toString() === fromValue ? [true, value] : [false, undefined];
  return [false, undefined];
}

class ChangeRunner {
  /** No move and no JSONata: every value is read synchronously, so a message is answered without a promise. */
  private readonly synchronous: boolean;

  constructor(
    private readonly rules: PreparedRule[],
    private readonly contexts: ContextScopes,
  ) {
    this.synchronous = rules.every((rule) => rule.t !== 'move' && (!rule.value || rule.value.getSync));
  }

  apply(msg: FlowMessage, log: Logger): FlowMessage | Promise<FlowMessage> {
    if (!this.synchronous) return this.applyAsync(msg, log);
    for (const rule of this.rules) {
      let value: unknown;
      if (rule.value) {
        try {
          value = rule.value.getSync!(msg);
        } catch {
          continue; // an unreadable msg source skips the rule, as below
        }
      }
      this.applyValue(msg, rule, value, log);
    }
    return msg;
  }

  private async applyAsync(msg: FlowMessage, log: Logger): Promise<FlowMessage> {
    for (const rule of this.rules) {
      if (rule.t === 'move') await this.move(msg, rule, log);
      else await this.applyRule(msg, rule, log);
    }
    return msg;
  }

  /** Move = set the target from the source, then delete the source; via a temporary when moving into a child. */
  private async move(msg: FlowMessage, r: PreparedRule, log: Logger): Promise<void> {
    const step = (t: 'set' | 'delete', p: string, pt: string, to = '', tot = 'str') => this.applyRule(msg, this.internalRule(t, p, pt, to, tot), log);
    if (r.tot !== r.pt || (r.p.indexOf(r.to) !== -1 && r.p !== r.to)) {
      await step('set', r.to, r.tot, r.p, r.pt);
      await step('delete', r.p, r.pt);
    } else {
      await step('set', '_temp_move', r.tot, r.p, r.pt);
      await step('delete', r.p, r.pt);
      await step('set', r.to, r.tot, '_temp_move', r.pt);
      await step('delete', '_temp_move', r.pt);
    }
  }

  private internalRule(t: 'set' | 'delete', p: string, pt: string, to: string, tot: string): PreparedRule {
    return { t, p, pt: pt as PreparedRule['pt'], to, tot, value: prepareTypedValue(to, tot, this.contexts), from: '', fromt: 'str', dc: false };
  }

  private async applyRule(msg: FlowMessage, rule: PreparedRule, log: Logger): Promise<void> {
    let value: unknown;
    if (rule.value) {
      try {
        value = await rule.value.get(msg);
      } catch (error) {
        // An unreadable msg source skips the rule ("an okay error" in Node-RED); a failing JSONata stops the message.
        if (rule.tot === 'jsonata') throw error;
        return;
      }
    }
    this.applyValue(msg, rule, value, log);
  }

  /** The rule with its value read. */
  private applyValue(msg: FlowMessage, rule: PreparedRule, value: unknown, log: Logger): void {
    if (rule.value && rule.dc) value = cloneMessage(value);
    const from = this.fromValue(msg, rule);
    if (!from) return;
    if (rule.pt === 'msg') {
      try {
        if (rule.t === 'delete') setMessageProperty(msg, rule.p, undefined);
        else if (rule.t === 'set') {
          if (!setMessageProperty(msg, rule.p, value)) log.warn(`Cannot set property of non-object type: ${rule.p}`);
        } else if (rule.t === 'change') {
          const [changed, next] = replaceValue(getMessageProperty(msg, rule.p), from, value);
          if (changed) setMessageProperty(msg, rule.p, next);
        }
      } catch {
        // Node-RED ignores rules whose property cannot be read or written.
      }
      return;
    }
    const store = rule.pt === 'flow' ? this.contexts.flow : this.contexts.global;
    let key: string;
    try {
      key = contextKey(rule.p, msg);
    } catch {
      return; // e.g. a [msg.x] reference to a missing property: Node-RED skips the rule
    }
    if (rule.t === 'delete') setContextValue(store, key, undefined);
    else if (rule.t === 'set') setContextValue(store, key, value);
    else if (rule.t === 'change') {
      const [changed, next] = replaceValue(getContextValue(store, key), from, value);
      if (changed) setContextValue(store, key, next);
    }
  }

  /** The search value of a change rule; null when it cannot be read, which skips the rule as in Node-RED. */
  private fromValue(msg: FlowMessage, rule: PreparedRule): FromValue | null {
    if (rule.t !== 'change') return {};
    if (rule.fromt === 'msg') {
      let current: unknown;
      try {
        current = getMessageProperty(msg, rule.from);
      } catch {
        return null;
      }
      return classifyFrom(current);
    }
    if (rule.fromt === 'flow' || rule.fromt === 'global') {
      return classifyFrom(getContextValue(this.contexts[rule.fromt], contextKey(rule.from, msg)));
    }
    return { fromType: rule.fromt, fromValue: rule.from, fromRE: rule.fromRE };
  }
}

/** How the editor names each value type (Node-RED's typed-input labels). */
const TYPE_TITLES: Record<string, string> = {
  msg: 'msg.', flow: 'flow.', global: 'global.', str: 'text', num: 'number', bool: 'boolean', json: 'JSON', bin: 'buffer',
  date: 'timestamp', jsonata: 'JSONata expression', env: 'env variable', re: 'regular expression',
};
const titled = (types: string[]) => ({ type: 'string', enum: types, 'x-enumTitles': types.map((t) => TYPE_TITLES[t] ?? t) });
const valueTypes = titled(TO_TYPES);

export const changeNode = defineNode<ChangeProps>({
  type: 'change',
  category: 'transform',
  label: 'set / change',
  icon: 'swap_horiz',
  color: '#E2D96E',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    required: ['rules'],
    properties: {
      rules: {
        type: 'array',
        title: 'Rules',
        description: 'Applied in order to each message.',
        default: [{ t: 'set', p: 'payload', pt: 'msg', to: '', tot: 'str' }],
        items: {
          type: 'object',
          required: ['t', 'p'],
          properties: {
            t: { type: 'string', enum: ['set', 'change', 'delete', 'move'], title: 'Action' },
            p: { type: 'string', title: 'Property', description: 'e.g. payload, payload.items[0], topic' },
            pt: { ...titled(['msg', 'flow', 'global']), default: 'msg', title: 'Property type' },
            to: { type: ['string', 'number', 'boolean'], title: 'Value' },
            tot: { ...valueTypes, default: 'str', title: 'Value type' },
            from: { type: ['string', 'number', 'boolean'], title: 'Search for' },
            fromt: { ...titled(['str', 'num', 'bool', 're', 'msg', 'flow', 'global', 'env']), default: 'str', title: 'Search type' },
            dc: { type: 'boolean', default: false, title: 'Deep copy the value', description: 'Copy an object value instead of sharing it.' },
          },
          // Each action's own fields (the editor shows only those): set a value, search and replace, move to a target.
          allOf: [
            { if: { properties: { t: { const: 'set' } }, required: ['t'] }, then: { properties: { to: { title: 'Value' }, tot: {}, dc: {} } } },
            {
              if: { properties: { t: { const: 'change' } }, required: ['t'] },
              then: { properties: { from: {}, fromt: {}, to: { title: 'Replace with' }, tot: { title: 'Replacement type' } } },
            },
            { if: { properties: { t: { const: 'move' } }, required: ['t'] }, then: { properties: { to: { title: 'Move to' }, tot: { title: 'Target type' } } } },
          ],
        },
      },
    },
  },
  help: `Sets, changes, deletes or moves properties of the message, of flow context or of global context,
applying each rule in order. Works like Node-RED's *change* node, so imported Node-RED flows keep their rules.

### Properties
- **Rules**: a list of rules, applied in order. Each has an **Action** and a **Property** (e.g. \`payload\`,
  \`payload.items[0]\`, \`topic\`) in the message (\`msg\`, the default), or in \`flow\` or \`global\` context.
  - **set** the property to **Value**, read as its type: text (\`str\`), number, boolean, JSON, bytes (\`bin\`),
    a timestamp (\`date\`), a copy of another property (\`msg\`/\`flow\`/\`global\`), a JSONata expression
    evaluated against the message (\`jsonata\`; \`$flowContext()\` and \`$globalContext()\` read context), or an
    environment variable (\`env\`: not available to flows, read as an empty string). **Deep copy the value** copies
    an object instead of sharing it.
  - **change** searches the property for **Search for** (text, number, boolean, a regular expression \`re\`, or
    another property) and replaces every match with **Replace with**. A string equal to the whole search value is
    replaced by the value itself (keeping its type); numbers and booleans are replaced only on an exact match.
  - **delete** removes the property.
  - **move** moves the property to **Move to** (in the message, flow or global context).

### Inputs
Any message.

### Outputs
1. The message after every rule has been applied.

### Errors
Invalid JSON values, regular expressions and JSONata expressions are reported when the flow is deployed.
A JSONata expression that fails on a message, or a dynamic search value of an unsupported type, fails the message.

### Limits
Regular expressions (search type \`re\`) run on a linear-time engine (RE2), so no input makes them hang. A pattern it
cannot run (lookahead, backreferences) keeps JavaScript's engine, with a warning at deploy and a time limit per
message (\`FLOWCREW_REGEX_TIMEOUT_MS\`, 100 ms). JSONata values have time, depth, size and memory limits
(\`FLOWCREW_EXPRESSION_TIMEOUT_MS\`, 1000 ms, and others). A message that exceeds a limit fails with an error
naming it.`,
  create(init) {
    const contexts = init.context;
    const runner = new ChangeRunner(prepareRules(init.props, contexts, init.log), contexts);
    return {
      onInput: (msg: FlowMessage, ctx: InputContext) => runner.apply(msg, ctx.log),
    };
  },
});
