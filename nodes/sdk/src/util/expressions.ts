/**
 * JSONata expressions and Node-RED "typed values" (a value plus its type: str, num, msg, flow, jsonata, ...) for
 * every core node, prepared once at deploy so that bad expressions, regexes and JSON fail the deploy with a clear
 * error, then evaluated per message with Node-RED's RED.util.evaluateNodeProperty semantics.
 */
import type jsonata from 'jsonata';
import type { ContextStore } from '../index.ts';
import { compileLimited, evaluateWithLimits } from './jsonata-limits.ts';
import { hostLimits, LimitExceededError, type HostLimits } from './limits.ts';
import { cloneMessage } from './message.ts';
import { SafeRegExp } from './safe-regex.ts';
import { contextKey, getContextValue, getMessageProperty, parseContextKey } from './property.ts';
import moment from 'moment';
import { evaluateEnv, type EnvReader } from './env.ts';

export { evaluateEnv };

export interface ContextScopes {
  flow: ContextStore;
  global: ContextStore;
  /** The flow's environment variables (the runtime's per-project variables); absent = none, every name reads "". */
  env?: EnvReader;
}

export interface CompiledExpression {
  readonly source: string;
  /** Evaluate against `input`; `bindings` adds per-call variables such as `$I`, `$N`, `$A`. */
  evaluate(input: unknown, bindings?: Record<string, unknown>): Promise<unknown>;
}

function messageOf(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) return String((error as { message: unknown }).message);
  return String(error);
}

/** What an evaluation that failed below every limit throws (a limit's own error passes as it is). */
function invalidExpression(error: unknown): Error {
  return error instanceof LimitExceededError ? error : new Error(`Invalid JSONata expression: ${messageOf(error)}`);
}

/**
 * Compile a JSONata expression with Node-RED's extra functions: `$flowContext(key)`, `$globalContext(key)`,
 * `$env(name)` (the flow's environment variables, `contexts.env`: "" when not set; never the host's process
 * environment unless the runtime's administrator passed names through) and `$clone(value)`.
 * With `nodeRedInput`, an expression that mentions `msg` sees `{ msg }` as its input, as Node-RED's legacy mode does.
 * Evaluations run under the host limits (time, depth, size, memory; regexes in linear time): one over a limit
 * fails with a LimitExceededError naming it.
 */
export function compileJsonata(source: string, contexts: ContextScopes, options: { nodeRedInput?: boolean; limits?: HostLimits } = {}): CompiledExpression {
  const limits = options.limits ?? hostLimits;
  let expression: jsonata.Expression;
  try {
    expression = compileLimited(source, limits);
  } catch (error) {
    throw new Error(`Invalid JSONata expression: ${messageOf(error)}`);
  }
  expression.assign('flowContext', (key: string) => getContextValue(contexts.flow, parseContextKey(String(key))));
  expression.assign('globalContext', (key: string) => getContextValue(contexts.global, parseContextKey(String(key))));
  // Unset reads "" (Node-RED's $env); a typed variable keeps its type, null included.
  expression.assign('env', (name: unknown) => {
    const found = contexts.env?.value(String(name));
    return found === undefined ? '' : found;
  });
  expression.registerFunction('clone', (value: unknown) => cloneMessage(value), '<(oa)-:o>');
  // Node-RED's own test (RED.util.prepareJSONataExpression): `payload.msg` is a field, not the message.
  const legacyMsg = options.nodeRedInput === true && /(^|[^a-zA-Z0-9_'".])msg([^a-zA-Z0-9_'"]|$)/.test(source);
  return {
    source,
    evaluate(input, bindings) {
      return evaluateWithLimits(expression, legacyMsg ? { msg: input } : input, bindings, limits, invalidExpression);
    },
  };
}

export interface TypedValue {
  readonly type: string;
  /** Evaluate for one message. A `msg` read below a missing parent throws, as in Node-RED; callers decide. */
  get(msg: unknown): Promise<unknown>;
  /**
   * The same evaluation without a promise, for every type but `jsonata` (JSONata evaluates asynchronously): a node
   * whose values all have it can answer a message synchronously, with no microtask turn per value.
   */
  getSync?(msg: unknown): unknown;
}

/**
 * Prepare a Node-RED typed value. Types: str num bool json bin re date msg flow global jsonata env; any other type
 * (the switch node's "is of type" names, for instance) yields the raw value, as Node-RED does.
 */
export function prepareTypedValue(value: unknown, type: string | undefined, contexts: ContextScopes, what = 'value'): TypedValue {
  const t = type || 'str';
  const text = value === undefined || value === null ? '' : String(value);
  const constant = (v: () => unknown): TypedValue => ({ type: t, get: async () => v(), getSync: v });
  const read = (v: (msg: unknown) => unknown): TypedValue => ({ type: t, get: async (msg) => v(msg), getSync: v });
  switch (t) {
    case 'str':
      return constant(() => text);
    case 'num':
      return constant(() => Number(value));
    case 'bool':
      return constant(() => /^true$/i.test(text));
    case 'json': {
      try {
        JSON.parse(text);
      } catch (error) {
        throw new Error(`Invalid JSON in ${what}: ${messageOf(error)}`);
      }
      return constant(() => JSON.parse(text) as unknown);
    }
    case 'bin': {
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (error) {
        throw new Error(`Invalid buffer JSON in ${what}: ${messageOf(error)}`);
      }
      return constant(() => Buffer.from(data as number[]));
    }
    case 're': {
      try {
        new SafeRegExp(text);
      } catch (error) {
        throw new Error(`Invalid regular expression in ${what}: ${messageOf(error)}`);
      }
      // A new object per message (a RegExp has state: lastIndex); its compiled program is cached.
      return constant(() => new SafeRegExp(text));
    }
    case 'date':
      // '' is a millisecond timestamp, 'iso' an ISO string; 'object' (a Date in Node-RED) is an ISO string too: messages
      // are JSON. Anything else is a moment format (Node-RED 3.1+ formats dates with moment too, in local time).
      if (text === '') return constant(() => Date.now());
      if (text === 'iso' || text === 'object') return constant(() => new Date().toISOString());
      return constant(() => moment().format(text));
    case 'msg':
      return read((msg) => getMessageProperty(msg, text));
    case 'flow':
    case 'global': {
      const store = t === 'flow' ? contexts.flow : contexts.global;
      return read((msg) => getContextValue(store, contextKey(text, msg)));
    }
    case 'jsonata': {
      const compiled = compileJsonata(text, contexts, { nodeRedInput: true });
      return { type: t, get: (msg) => compiled.evaluate(msg) };
    }
    case 'env':
      return constant(() => evaluateEnv(text, contexts.env));
    default:
      return constant(() => value);
  }
}
