/**
 * JSONata in the editor: the syntax check (JSONata's own parser, so its messages and positions are the runtime's)
 * and the built-in functions offered by completion. Highlighting: jsonata-language.ts.
 */
import jsonata from 'jsonata';

/** A problem at a character range of the source (end exclusive). */
export interface SyntaxProblem {
  message: string;
  from: number;
  to: number;
}

interface JsonataError {
  code?: string;
  position?: number;
  /** The token as read: a number literal comes back as a number. */
  token?: unknown;
  message?: string;
}

/**
 * JSONata reports `position` just after the offending token; `(end)` means the text ended too early. The range
 * covers the token (or the last character), so the editor can underline it.
 */
export function problemRange(source: string, error: JsonataError): { from: number; to: number } {
  const length = source.length;
  const position = typeof error.position === 'number' ? Math.min(Math.max(error.position, 0), length) : length;
  const token = error.token === undefined || error.token === null ? '' : String(error.token);
  if (!token || token === '(end)') return { from: Math.max(0, Math.min(position, length) - 1), to: Math.max(position, Math.min(length, 1)) };
  const from = Math.max(0, position - token.length);
  return { from, to: Math.max(from + 1, position) };
}

/** Line and column (1-based) of an offset, for messages outside the editor. */
export function lineColumn(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

const checked = new Map<string, SyntaxProblem | null>();
const CACHE_LIMIT = 500;

/** The first syntax error of a JSONata expression, or null. Cached: forms re-check every field on each edit. */
export function checkJsonata(source: string): SyntaxProblem | null {
  const known = checked.get(source);
  if (known !== undefined) return known;
  let problem: SyntaxProblem | null = null;
  if (source.trim() === '') problem = { message: 'The expression is empty', from: 0, to: 0 };
  else {
    try {
      jsonata(source);
    } catch (error) {
      const e = error as JsonataError;
      problem = { message: e.message ?? String(error), ...problemRange(source, e) };
    }
  }
  if (checked.size >= CACHE_LIMIT) checked.delete(checked.keys().next().value!);
  checked.set(source, problem);
  return problem;
}

/** JSONata's built-in functions with their arguments, as completion shows them (jsonata.org, "Function library"). */
export const JSONATA_FUNCTIONS: ReadonlyArray<readonly [name: string, args: string]> = [
  ['string', 'arg, prettify'], ['length', 'str'], ['substring', 'str, start, length'], ['substringBefore', 'str, chars'],
  ['substringAfter', 'str, chars'], ['uppercase', 'str'], ['lowercase', 'str'], ['trim', 'str'], ['pad', 'str, width, char'],
  ['contains', 'str, pattern'], ['split', 'str, separator, limit'], ['join', 'array, separator'], ['match', 'str, pattern, limit'],
  ['replace', 'str, pattern, replacement, limit'], ['eval', 'expr, context'], ['base64encode', 'str'], ['base64decode', 'str'],
  ['encodeUrlComponent', 'str'], ['encodeUrl', 'str'], ['decodeUrlComponent', 'str'], ['decodeUrl', 'str'],
  ['number', 'arg'], ['abs', 'number'], ['floor', 'number'], ['ceil', 'number'], ['round', 'number, precision'],
  ['power', 'base, exponent'], ['sqrt', 'number'], ['random', ''], ['formatNumber', 'number, picture, options'],
  ['formatBase', 'number, radix'], ['formatInteger', 'number, picture'], ['parseInteger', 'string, picture'],
  ['sum', 'array'], ['max', 'array'], ['min', 'array'], ['average', 'array'], ['boolean', 'arg'], ['not', 'arg'],
  ['exists', 'arg'], ['count', 'array'], ['append', 'array1, array2'], ['sort', 'array, function'], ['reverse', 'array'],
  ['shuffle', 'array'], ['distinct', 'array'], ['zip', 'array1, ...'], ['keys', 'object'], ['lookup', 'object, key'],
  ['spread', 'object'], ['merge', 'array<object>'], ['sift', 'object, function'], ['each', 'object, function'],
  ['error', 'message'], ['assert', 'condition, message'], ['type', 'value'], ['now', 'picture, timezone'], ['millis', ''],
  ['fromMillis', 'number, picture, timezone'], ['toMillis', 'timestamp, picture'], ['map', 'array, function'],
  ['filter', 'array, function'], ['single', 'array, function'], ['reduce', 'array, function, init'],
  // Flowcrew's (and Node-RED's) additions.
  ['flowContext', 'key'], ['globalContext', 'key'], ['env', 'name'], ['clone', 'value'],
];
