/**
 * How deeply JSON is nested, found without recursion. Parsed JSON can be nested far deeper than the call stack
 * allows (JSON.parse is iterative; ajv, structuredClone, JSON.stringify and JSONata are not), so anything from
 * outside is measured here first and refused with a pointer to where it gets too deep.
 */

/** Default deepest nesting accepted in request bodies, flow documents and node messages (FLOWCREW_MAX_DEPTH). */
export const DEFAULT_MAX_DEPTH = 128;

export interface TooDeep {
  /** JSON pointer to the first object or array nested deeper than the limit. */
  pointer: string;
  message: string;
}

/** One object or array to look into, with the way back to the root for the pointer. */
interface Frame {
  value: object;
  depth: number;
  parent: Frame | null;
  key: string;
}

/**
 * The first place where `value` nests objects/arrays more than `maxDepth` deep (a scalar is depth 0, `{}` and
 * `[]` depth 1), or null. Linear in the size of the value; never recursive. A cycle cannot come from parsed JSON;
 * from in-process values it is reported as too deep rather than looping.
 */
export function findTooDeep(value: unknown, maxDepth: number): TooDeep | null {
  if (value === null || typeof value !== 'object') return null;
  const stack: Frame[] = [{ value, depth: 1, parent: null, key: '' }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.depth > maxDepth) {
      return { pointer: pointerOf(frame), message: `is nested more than ${maxDepth} levels deep (the limit is FLOWCREW_MAX_DEPTH)` };
    }
    const container = frame.value;
    if (Array.isArray(container)) {
      for (let i = container.length - 1; i >= 0; i--) {
        const child: unknown = container[i];
        if (child !== null && typeof child === 'object') stack.push({ value: child, depth: frame.depth + 1, parent: frame, key: String(i) });
      }
    } else {
      for (const key in container) {
        if (!Object.prototype.hasOwnProperty.call(container, key)) continue;
        const child: unknown = (container as Record<string, unknown>)[key];
        if (child !== null && typeof child === 'object') stack.push({ value: child, depth: frame.depth + 1, parent: frame, key });
      }
    }
  }
  return null;
}

/** RFC 6901 pointer of a frame: '/' for the root. */
function pointerOf(frame: Frame): string {
  const keys: string[] = [];
  for (let f: Frame | null = frame; f && f.parent; f = f.parent) keys.push(f.key.replace(/~/g, '~0').replace(/\//g, '~1'));
  return keys.length === 0 ? '/' : `/${keys.reverse().join('/')}`;
}

/**
 * Nesting depth of serialised JSON text, scanning characters (strings skipped); stops as soon as it passes
 * `maxDepth`. Used where the text exists anyway, so checking costs no second walk of the object graph.
 */
export function jsonTextExceedsDepth(text: string, maxDepth: number): boolean {
  // Each level needs an opening and a closing bracket: short text cannot be too deep.
  if (text.length <= maxDepth * 2) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
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
