/**
 * The size a value takes once written out: JSON.stringify, a structured clone or a deep copy visits a value shared
 * in several places (a YAML alias, a JSONata variable used twice) once per place. A few kilobytes of YAML or a
 * short JSONata loop can build a value whose written-out size is astronomically large ("billion laughs"); this
 * measures it without writing it out, so that it is refused before anything tries to.
 */
import { LimitExceededError, limitVariable, type HostLimits } from './limits.ts';

export interface ValueSize {
  /** Values: scalars, objects and arrays, each shared one counted once per place it appears. */
  values: number;
  /** Characters of strings and object keys (Buffer bytes), counted the same way. */
  chars: number;
  /** Nesting depth: 0 for a scalar, 1 for `{}` or `[]`. */
  depth: number;
}

const SCALAR: ValueSize = Object.freeze({ values: 1, chars: 0, depth: 0 });

function scalarSize(value: unknown): ValueSize | undefined {
  if (value === null || typeof value !== 'object') return typeof value === 'string' ? { values: 1, chars: value.length, depth: 0 } : SCALAR;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return { values: 1, chars: value.byteLength, depth: 0 };
  if (value instanceof Date || value instanceof RegExp) return SCALAR;
  // A JSONata function value (lambda, built-in): never written out as data.
  if ((value as { _jsonata_lambda?: unknown })._jsonata_lambda === true || (value as { _jsonata_function?: unknown })._jsonata_function === true) return SCALAR;
  return undefined;
}

/**
 * Measures values, remembering the size of every object it has measured: a value built step by step from
 * measured parts (as a JSONata evaluation builds its results) costs only its own members. Throws when a value
 * holds more values or characters than the limits, or contains itself. One meter per evaluation or document:
 * objects are assumed not to change while it is in use.
 */
export class SizeMeter {
  // A Map, not a WeakMap: a meter lives as long as one evaluation or document, and a Map is faster.
  private readonly memo = new Map<object, ValueSize>();

  constructor(
    private readonly limits: Pick<HostLimits, 'maxItems' | 'maxStringLength'>,
    /** What is measured, for error messages: "The YAML document", "The JSONata expression's result". */
    private readonly what: string,
  ) {}

  /** The size of an object measured before, if it was (small objects of scalars are not remembered). */
  known(value: object): ValueSize | undefined {
    return this.memo.get(value);
  }

  measure(value: unknown): ValueSize {
    const scalar = scalarSize(value);
    if (scalar) return this.checked(scalar);
    const known = this.memo.get(value as object);
    if (known) return known;
    const shallow = this.shallow(value as object);
    if (shallow) return shallow;
    // Iterative post-order walk: deep values must not overflow the stack here.
    const visiting = new Set<object>();
    const stack: Array<{ node: object; expanded: boolean }> = [{ node: value as object, expanded: false }];
    let result: ValueSize = SCALAR;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const node = frame.node;
      if (!frame.expanded) {
        if (this.memo.has(node)) {
          stack.pop(); // shared, and measured meanwhile through another parent
          continue;
        }
        // Each item is at least one value: a longer array is over the limit before looking into it.
        if (Array.isArray(node) && node.length > this.limits.maxItems) this.checked({ values: node.length, chars: 0, depth: 1 });
        frame.expanded = true;
        visiting.add(node);
        forEachMember(node, (child) => {
          if (child === null || typeof child !== 'object' || this.memo.has(child) || scalarSize(child)) return;
          if (visiting.has(child)) throw this.tooLarge(`${this.what} contains itself`);
          stack.push({ node: child, expanded: false });
        });
        if (stack[stack.length - 1] !== frame) continue;
      }
      stack.pop();
      visiting.delete(node);
      const size = { values: 1, chars: 0, depth: 1 };
      forEachMember(node, (child, key) => {
        const childSize = scalarSize(child) ?? this.memo.get(child as object);
        // Every member was measured before its parent: one still unmeasured is an ancestor, a cycle.
        if (!childSize) throw this.tooLarge(`${this.what} contains itself`);
        size.values += childSize.values;
        size.chars += childSize.chars + (key === undefined ? 0 : key.length);
        if (childSize.depth + 1 > size.depth) size.depth = childSize.depth + 1;
        if (size.values > this.limits.maxItems || size.chars > this.limits.maxStringLength) this.checked(size);
      });
      this.checked(size);
      this.memo.set(node, size);
      result = size;
    }
    return result;
  }

  /**
   * The common case, without the walk's bookkeeping: every member is a scalar or already measured. Undefined
   * when a member still needs measuring. (No closures here: this runs after most JSONata steps.)
   */
  private shallow(node: object): ValueSize | undefined {
    let values = 1;
    let chars = 0;
    let depth = 1;
    const array = Array.isArray(node);
    const keys = array ? undefined : Object.keys(node);
    const count = array ? node.length : keys!.length;
    if (count > this.limits.maxItems) this.checked({ values: count, chars: 0, depth: 1 });
    for (let i = 0; i < count; i++) {
      const key = keys?.[i];
      const child: unknown = array ? node[i] : (node as Record<string, unknown>)[key!];
      if (key !== undefined) chars += key.length;
      if (typeof child === 'string') {
        values++;
        chars += child.length;
        continue;
      }
      const childSize = scalarSize(child) ?? this.memo.get(child as object);
      if (!childSize) return undefined;
      values += childSize.values;
      chars += childSize.chars;
      if (childSize.depth >= depth) depth = childSize.depth + 1;
    }
    const size = this.checked({ values, chars, depth });
    // Scalars only and few of them: measuring again is as cheap as remembering.
    if (depth > 1 || count > 64) this.memo.set(node, size);
    return size;
  }

  private checked(size: ValueSize): ValueSize {
    if (size.values > this.limits.maxItems) {
      throw new LimitExceededError(`${this.what} holds more than ${this.limits.maxItems} values once written out`, {
        name: 'maxItems',
        value: this.limits.maxItems,
        variable: limitVariable('maxItems'),
      });
    }
    if (size.chars > this.limits.maxStringLength) {
      throw new LimitExceededError(`${this.what} holds more than ${this.limits.maxStringLength} characters once written out`, {
        name: 'maxStringLength',
        value: this.limits.maxStringLength,
        variable: limitVariable('maxStringLength'),
      });
    }
    return size;
  }

  private tooLarge(message: string): LimitExceededError {
    return new LimitExceededError(message, { name: 'maxItems', value: this.limits.maxItems, variable: limitVariable('maxItems') });
  }
}

/** Call `visit` for each member of an array (by index) or object (own enumerable keys, with the key). */
function forEachMember(node: object, visit: (child: unknown, key?: string) => void): void {
  if (Array.isArray(node)) {
    for (let i = 0; i < node.length; i++) visit(node[i]);
    return;
  }
  for (const key in node) if (Object.prototype.hasOwnProperty.call(node, key)) visit((node as Record<string, unknown>)[key], key);
}

/** Refuse a value nested deeper than `maxDepth`, measured or not. */
export function checkDepth(size: ValueSize, what: string, limits: Pick<HostLimits, 'maxDepth'>): void {
  if (size.depth > limits.maxDepth) {
    throw new LimitExceededError(`${what} is nested more than ${limits.maxDepth} levels deep`, {
      name: 'maxDepth',
      value: limits.maxDepth,
      variable: limitVariable('maxDepth'),
    });
  }
}

/**
 * Whether JSON text nests objects/arrays deeper than `maxDepth`, scanning characters (strings skipped). The text may be
 * UTF-8 bytes (a request body): brackets, quotes and backslashes are ASCII, which UTF-8 never uses inside a multi-byte
 * character, so the same scan holds.
 */
export function jsonTextTooDeep(text: string | Uint8Array, maxDepth: number): boolean {
  // Each level needs an opening and a closing bracket: short text cannot be too deep.
  if (text.length <= maxDepth * 2) return false;
  const bytes = typeof text === 'string' ? null : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = bytes ? bytes[i]! : (text as string).charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (++depth > maxDepth) return true;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return false;
}
