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
 * Whether JSON text has more than `n` opening brackets ('{' or '[', counted inside strings too): a cheap necessary
 * condition for nesting deeper than `n`, found with native searches. Text that passes this test cannot be too deep,
 * so the exact (object) walk is only needed for messages with many containers.
 */
export function hasMoreContainersThan(text: string, n: number): boolean {
  let count = 0;
  for (const bracket of ['{', '[']) {
    for (let at = text.indexOf(bracket); at !== -1; at = text.indexOf(bracket, at + 1)) if (++count > n) return true;
  }
  return false;
}
