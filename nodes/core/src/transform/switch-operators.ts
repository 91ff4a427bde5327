/**
 * The switch node's operators (switch.ts), as Node-RED's switch evaluates them: comparisons with its loose
 * equality and number coercion, regex, types, emptiness, sequence position (head, tail, index) and has-key.
 */
import { SafeRegExp } from '@flowcrew/sdk/util';
import type { SWITCH_OPERATORS } from './switch.ts';

type Operator = (typeof SWITCH_OPERATORS)[number];

export interface Parts {
  id?: unknown;
  index: number;
  count: number;
}

type OperatorFn = (a: any, b: any, c: any, ignoreCase: boolean | undefined, parts: Parts | undefined) => unknown;

function needParts(parts: Parts | undefined, rule: string): Parts {
  if (!parts || typeof parts !== 'object') throw new Error(`The "${rule}" rule needs msg.parts: it works on message sequences (e.g. from a split node)`);
  return parts;
}

function isEmpty(a: unknown): boolean | undefined {
  if (typeof a === 'string' || Array.isArray(a) || Buffer.isBuffer(a)) return a.length === 0;
  if (typeof a === 'object' && a !== null) return Object.keys(a).length === 0;
  return undefined;
}

// Loose (==) comparisons and string coercions are Node-RED's, kept on purpose.
export const operators: Record<Operator, OperatorFn> = {
  eq: (a, b) => a == b,
  neq: (a, b) => a != b,
  lt: (a, b) => a < b,
  lte: (a, b) => a <= b,
  gt: (a, b) => a > b,
  gte: (a, b) => a >= b,
  btwn: (a, b, c) => (a >= b && a <= c) || (a <= b && a >= c),
  cont: (a, b) => (a + '').indexOf(b) != -1,
  // As Node-RED's `(a + '').match(new RegExp(b, flags))`, on a regex that cannot stall the runtime.
  regex: (a, b, _c, ignoreCase) => new SafeRegExp(b instanceof RegExp ? b.source : b, ignoreCase ? 'i' : '').test(a + ''),
  true: (a) => a === true,
  false: (a) => a === false,
  null: (a) => a === undefined || a === null,
  nnull: (a) => a !== undefined && a !== null,
  empty: (a) => isEmpty(a) === true,
  nempty: (a) => isEmpty(a) === false,
  istype: (a, b) => {
    if (b === 'array') return Array.isArray(a);
    if (b === 'buffer') return Buffer.isBuffer(a);
    if (b === 'json') {
      try {
        JSON.parse(a);
        return true;
      } catch {
        return false;
      }
    }
    if (b === 'null') return a === null;
    return typeof a === b && !Array.isArray(a) && !Buffer.isBuffer(a) && a !== null;
  },
  head: (_a, b, _c, _d, parts) => needParts(parts, 'head').index < Number(b),
  tail: (_a, b, _c, _d, parts) => {
    const p = needParts(parts, 'tail');
    return p.count - Number(b) <= p.index;
  },
  index: (_a, b, c, _d, parts) => {
    const index = needParts(parts, 'index').index;
    return Number(b) <= index && index <= Number(c);
  },
  hask: (a, b) => a !== undefined && a !== null && typeof b !== 'object' && Object.prototype.hasOwnProperty.call(Object(a), b + ''),
  jsonata_exp: (_a, b) => b === true,
  else: (a) => a === true,
};

/** How a rule operand is obtained for one message. */
