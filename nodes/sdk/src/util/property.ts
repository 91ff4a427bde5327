/**
 * Node-RED's message property expressions (`payload.items[0]`, `a["b c"]`, `a[msg.topic]`) and flow/global
 * context access, with Node-RED's exact semantics (RED.util.getMessageProperty and friends): every core node reads
 * and writes properties the way Node-RED does (missing parents throw on read, `set` creates them, `undefined`
 * deletes and splices arrays), or imported flows would give different answers.
 */
import type { ContextStore } from '../index.ts';

/** A key of a property path: a string or array index, a nested path (unresolved `[msg.x]`) or a resolved reference. */
export type PathPart = unknown;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

class PropertyExpressionError extends Error {
  readonly code = 'INVALID_EXPR';
}

function invalid(message: string): PropertyExpressionError {
  return new PropertyExpressionError(`Invalid property expression: ${message}`);
}

/**
 * Parse a property expression into its keys. `msg` resolves cross references such as `a[msg.topic]`; without it they
 * come back as nested arrays (enough to validate an expression at deploy time).
 */
export function normalisePropertyExpression(str: string, msg?: unknown): PathPart[] {
  const length = str.length;
  if (length === 0) throw invalid('zero-length');
  const parts: PathPart[] = [];
  let start = 0;
  let inString = false;
  let inBox = false;
  let quoteChar = '';
  for (let i = 0; i < length; i++) {
    const c = str[i]!;
    if (inString) {
      if (c === quoteChar) {
        if (i - start === 0) throw invalid(`zero-length string at position ${start}`);
        parts.push(str.substring(start, i));
        if (inBox && str[i + 1] !== ']') throw invalid(`unexpected array expression at position ${start}`);
        if (!inBox && i + 1 !== length && !/[[.]/.test(str[i + 1]!)) throw invalid(`unexpected ${str[i + 1]} expression at position ${i + 1}`);
        start = i + 1;
        inString = false;
      }
      continue;
    }
    if (c === "'" || c === '"') {
      if (i !== start) throw invalid(`unexpected ${c} at position ${i}`);
      inString = true;
      quoteChar = c;
      start = i + 1;
    } else if (c === '.') {
      if (i === 0) throw invalid('unexpected . at position 0');
      if (start !== i) parts.push(keyOf(str.substring(start, i)));
      if (i === length - 1) throw invalid('unterminated expression');
      if (!/[a-z0-9$_]/i.test(str[i + 1]!)) throw invalid(`unexpected ${str[i + 1]} at position ${i + 1}`);
      start = i + 1;
    } else if (c === '[') {
      if (i === 0) throw invalid(`unexpected ${c} at position ${i}`);
      if (start !== i) parts.push(str.substring(start, i));
      if (i === length - 1) throw invalid('unterminated expression');
      if (/^msg[.[]/.test(str.substring(i + 1))) {
        // A nested msg reference: find its closing bracket and resolve it against msg.
        const end = closingBracket(str, i);
        if (end < 0) throw invalid(`unmatched '[' at position ${i}`);
        const inner = str.substring(i + 1, end);
        if (msg !== undefined) {
          let value: unknown;
          try {
            value = getMessageProperty(msg, inner);
          } catch {
            value = undefined;
          }
          if (value === undefined) throw invalid(`undefined reference at position ${i + 1} : ${inner}`);
          parts.push(value);
        } else {
          parts.push(normalisePropertyExpression(inner));
        }
        inBox = false;
        i = end;
        start = end + 1;
        continue;
      } else if (!/["'\d]/.test(str[i + 1]!)) {
        throw invalid(`unexpected ${str[i + 1]} at position ${i + 1}`);
      }
      start = i + 1;
      inBox = true;
    } else if (c === ']') {
      if (!inBox) throw invalid(`unexpected ${c} at position ${i}`);
      if (start !== i) {
        const v = str.substring(start, i);
        if (!/^\d+$/.test(v)) throw invalid(`unexpected array expression at position ${start}`);
        parts.push(parseInt(v, 10));
      }
      start = i + 1;
      inBox = false;
    } else if (c === ' ') {
      throw invalid(`unexpected ' ' at position ${i}`);
    }
  }
  if (inBox || inString) throw invalid('unterminated expression');
  if (start < length) parts.push(str.substring(start));
  for (const part of parts) {
    if (typeof part === 'string' && FORBIDDEN_KEYS.has(part)) throw invalid(`"${part}" is not allowed`);
  }
  return parts;
}

function keyOf(v: string): string | number {
  return /^\d+$/.test(v) ? parseInt(v, 10) : v;
}

function closingBracket(str: string, open: number): number {
  let depth = 1;
  let quote = '';
  for (let j = open + 1; j < str.length; j++) {
    const ch = str[j]!;
    if (ch === '"' || ch === "'") {
      if (!quote) quote = ch;
      else if (ch === quote) quote = '';
    }
    if (ch === '[') depth++;
    else if (ch === ']') depth--;
    if (depth === 0) return j;
  }
  return -1;
}

/** The canonical string form (`a["b"][0]`) of an expression, with msg cross references resolved. */
export function canonicalPropertyExpression(str: string, msg: unknown): string {
  const parts = normalisePropertyExpression(str, msg);
  let result = String(parts.shift());
  for (const part of parts) {
    const p = typeof part === 'string' ? (part.includes('"') ? `'${part}'` : `"${part}"`) : String(part);
    result += `[${p}]`;
  }
  return result;
}

/** Throws a clear error at deploy time if `expr` is not a valid property expression. */
export function assertPropertyExpression(expr: string, what: string): void {
  try {
    normalisePropertyExpression(stripMsgPrefix(expr));
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

function stripMsgPrefix(expr: string): string {
  return expr.startsWith('msg.') ? expr.substring(4) : expr;
}

/** Read `expr` from an object. Like Node-RED, reading below a missing parent throws. */
/**
 * Parsed paths of expressions without a `[msg...]` reference (their keys do not depend on the message), by text:
 * a node applies the same few expressions to every message. Cleared when full (expressions are few per flow).
 */
const parsedPaths = new Map<string, readonly PathPart[]>();
const MAX_PARSED_PATHS = 2000;

/** The keys of `expr` on `target`: parsed once per text unless it refers to the message (never mutated by callers). */
function pathOf(expr: string, target: unknown): readonly PathPart[] {
  const cached = parsedPaths.get(expr);
  if (cached) return cached;
  const parts = normalisePropertyExpression(expr, target);
  if (!expr.includes('[msg')) {
    if (parsedPaths.size >= MAX_PARSED_PATHS) parsedPaths.clear();
    parsedPaths.set(expr, parts);
  }
  return parts;
}

export function getObjectProperty(target: unknown, expr: string): unknown {
  const parts = pathOf(expr, target);
  let result: unknown = null;
  let obj: any = target;
  for (const key of parts) {
    // Plain JS indexing on purpose: undefined/null parents throw a TypeError, exactly as in Node-RED.
    result = obj[key as string] !== undefined ? obj[key as string] : undefined;
    obj = result;
  }
  return result;
}

export function getMessageProperty(msg: unknown, expr: string): unknown {
  return getObjectProperty(msg, stripMsgPrefix(expr));
}

/** For the nodes where Node-RED ignores a failed read (debug, http request headers): unreadable reads as undefined. */
export function getMessagePropertyOrUndefined(msg: unknown, expr: string): unknown {
  try {
    return getMessageProperty(msg, expr);
  } catch {
    return undefined;
  }
}

/**
 * Write `expr` on an object; `undefined` deletes it (splicing arrays). Missing parents are created unless the value
 * is undefined. Returns false when a parent is not an object, as Node-RED does.
 */
export function setObjectProperty(target: object, expr: string, value: unknown, createMissing = value !== undefined): boolean {
  const parts = pathOf(expr, target);
  const length = parts.length;
  let obj: any = target;
  for (let i = 0; i < length - 1; i++) {
    const key = parts[i] as string | number;
    if (typeof key === 'string' || (typeof key === 'number' && !Array.isArray(obj))) {
      if (Object.prototype.hasOwnProperty.call(obj, key)) {
        const child = obj[key];
        if ((typeof child !== 'object' && typeof child !== 'function') || child === null) return false;
        obj = child;
      } else if (createMissing) {
        obj[key] = emptyParentFor(parts[i + 1]);
        obj = obj[key];
      } else return false;
    } else if (typeof key === 'number') {
      if (obj[key] === undefined) {
        if (!createMissing) return false;
        obj[key] = emptyParentFor(parts[i + 1]);
      }
      obj = obj[key];
    }
  }
  const key = parts[length - 1] as string | number;
  if (value === undefined) {
    if (typeof key === 'number' && Array.isArray(obj)) obj.splice(key, 1);
    else delete obj[key];
  } else {
    if (typeof obj !== 'object' || obj === null) return false;
    obj[key] = value;
  }
  return true;
}

/** A missing parent made on write: an object for a string key below it, an array for an index. */
function emptyParentFor(next: PathPart): object {
  return typeof next === 'string' ? {} : [];
}

export function setMessageProperty(msg: object, expr: string, value: unknown, createMissing?: boolean): boolean {
  return setObjectProperty(msg, stripMsgPrefix(expr), value, createMissing ?? value !== undefined);
}

/** A context property as the TypedInput stores it: `#:(store)::key` names a store, which Flowcrew has only one of. */
export function parseContextKey(key: string): string {
  const m = /^#:\((\S+?)\)::(.*)$/.exec(key);
  return m ? m[2]! : key;
}

/** The context key of a flow/global property, resolving nested `[msg.x]` references first. */
export function contextKey(property: string, msg?: unknown): string {
  const key = parseContextKey(property);
  return /\[msg/.test(key) && msg !== undefined ? canonicalPropertyExpression(key, msg) : key;
}

/** Read a (possibly nested, e.g. `count.today`) context property; a missing parent reads as undefined. */
export function getContextValue(store: ContextStore, key: string): unknown {
  const parts = normalisePropertyExpression(key);
  const root = store.get(String(parts[0]));
  if (parts.length === 1) return root;
  try {
    return getObjectProperty({ [String(parts[0])]: root }, key);
  } catch {
    return undefined;
  }
}

/** Write a (possibly nested) context property; undefined deletes it. */
export function setContextValue(store: ContextStore, key: string, value: unknown): void {
  const parts = normalisePropertyExpression(key);
  const rootKey = String(parts[0]);
  if (parts.length === 1) {
    store.set(rootKey, value);
    return;
  }
  const current = store.get(rootKey);
  if (current === undefined && value === undefined) return;
  const holder: Record<string, unknown> = current === undefined ? {} : { [rootKey]: current };
  setObjectProperty(holder, key, value);
  store.set(rootKey, holder[rootKey]);
}
