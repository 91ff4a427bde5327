/**
 * Node-RED "typed input" values (the `v`/`vt` pairs of inject and friends) and context paths.
 * Kept in one place so every io node reads and writes values the same way Node-RED does.
 */
import jsonata from 'jsonata';
import { getProperty, setProperty, type ContextStore, type FlowMessage } from '@flowcrew/sdk';

/** The value types we support. Node-RED's `env` type is left out on purpose: host environment variables stay private. */
export const VALUE_TYPES = ['str', 'num', 'bool', 'json', 'date', 'jsonata', 'flow', 'global'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export interface ContextStores {
  flow: ContextStore;
  global: ContextStore;
}

/** A value compiled once (JSONata parsed, JSON checked) and evaluated per message. */
export type CompiledValue = (msg: FlowMessage) => Promise<unknown>;

/**
 * Compile a typed value the way Node-RED's `RED.util.evaluateNodeProperty` reads it.
 * Errors in the configuration (bad JSON, bad JSONata, unknown type) are thrown here, at deploy.
 */
export function compileValue(value: unknown, type: string | undefined, context: ContextStores): CompiledValue {
  const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  switch (type ?? 'str') {
    case 'str':
      return async () => text;
    case 'num':
      return async () => Number(text);
    case 'bool':
      return async () => /^true$/i.test(text);
    case 'json': {
      // Parsed per message so every message gets its own object, as Node-RED does.
      JSON.parse(text);
      return async () => JSON.parse(text);
    }
    case 'date':
      // Node-RED: '' is a millisecond timestamp, 'iso' an ISO string; 'object' (a Date) becomes ISO too, since messages are JSON.
      return async () => (text === 'iso' || text === 'object' ? new Date().toISOString() : Date.now());
    case 'jsonata': {
      if (!text) return async () => undefined;
      const expression = compileJsonata(text, context);
      return (msg) => expression.evaluate(msg);
    }
    case 'flow':
      return async () => readContext(context.flow, text);
    case 'global':
      return async () => readContext(context.global, text);
    case 'env':
      throw new Error('environment variable values are not available in Flowcrew; use flow or global context instead');
    default:
      throw new Error(`unsupported value type "${type}"`);
  }
}

/** A JSONata expression with Node-RED's `$flowContext` and `$globalContext` functions. */
export function compileJsonata(text: string, context: ContextStores): jsonata.Expression {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(text);
  } catch (error) {
    throw new Error(`invalid JSONata expression "${text}": ${(error as Error).message}`);
  }
  expression.registerFunction('flowContext', (key: string) => readContext(context.flow, key), '<s:x>');
  expression.registerFunction('globalContext', (key: string) => readContext(context.global, key), '<s:x>');
  return expression;
}

/**
 * Split a Node-RED context key into the stored key and a property path below it:
 * `#:(memory)::count` → count, `user.address.city` → user + address.city.
 */
export function parseContextKey(key: string): { root: string; path: string } {
  const withoutStore = key.replace(/^#:\([^)]*\)::/, '');
  const match = /^([^.[]+)(.*)$/.exec(withoutStore);
  if (!match) throw new Error(`invalid context key "${key}"`);
  return { root: match[1]!, path: match[2]!.replace(/^\./, '') };
}

export function readContext(store: ContextStore, key: string): unknown {
  const { root, path } = parseContextKey(key);
  const value = store.get(root);
  return path ? getProperty(value, path) : value;
}

export function writeContext(store: ContextStore, key: string, value: unknown): void {
  const { root, path } = parseContextKey(key);
  if (!path) {
    store.set(root, value);
    return;
  }
  const current = store.get(root);
  // Copy before writing: the store may hand out its own object, and a write must go through set() to persist.
  const target = current !== null && typeof current === 'object' ? structuredClone(current) : {};
  setProperty(target as Record<string, unknown>, path, value);
  store.set(root, target);
}
