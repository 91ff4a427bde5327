/**
 * SOQL has no bind parameters over the REST API, so message values are written into the query as SOQL literals,
 * escaped as the SOQL reference says (backslash, quotes, newline, tab...), for `:name` placeholders. Values are
 * never pasted in as text: a string is always a quoted literal, so it cannot end the literal and add a clause.
 */
import { NodeInputError } from '@flowcrew/sdk';

const ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };

export function soqlLiteral(value: unknown, name: string): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NodeInputError(`SOQL parameter :${name} is ${value}, not a number SOQL can take`);
    return String(value);
  }
  if (typeof value === 'string') return `'${value.replace(/[\\'"\n\r\t\b\f]/g, (c) => ESCAPES[c]!)}'`;
  if (Array.isArray(value)) {
    if (value.length === 0) throw new NodeInputError(`SOQL parameter :${name} is an empty list (IN () is not valid SOQL)`);
    return `(${value.map((v) => soqlLiteral(v, name)).join(', ')})`;
  }
  throw new NodeInputError(`SOQL parameter :${name} is ${typeof value}: use a string, number, boolean, null or a list of them`);
}

/** Replace `:name` placeholders (outside quoted literals) with the literals of `values[name]`. */
export function bindSoql(soql: string, values: Record<string, unknown>): string {
  let out = '';
  let quoted = false;
  for (let i = 0; i < soql.length; i++) {
    const c = soql[i]!;
    if (quoted) {
      out += c;
      if (c === '\\') out += soql[++i] ?? '';
      else if (c === "'") quoted = false;
      continue;
    }
    if (c === "'") quoted = true;
    const m = c === ':' ? /^:([A-Za-z_]\w*)/.exec(soql.slice(i)) : null;
    if (!m) {
      out += c;
      continue;
    }
    if (!(m[1]! in values)) throw new NodeInputError(`SOQL parameter :${m[1]} has no value (params names ${Object.keys(values).join(', ') || 'none'})`);
    out += soqlLiteral(values[m[1]!], m[1]!);
    i += m[0].length - 1;
  }
  return out;
}
