/** JSON helpers for what users type or paste: errors that say where the problem is. */

export type ParseResult = { ok: true; value: unknown } | { ok: false; message: string; line?: number; column?: number };

/** Parse JSON; on failure, say what is wrong and at which line and column. */
export function parseJson(text: string): ParseResult {
  if (text.trim() === '') return { ok: false, message: 'The text is empty: paste or choose a JSON document.' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    // Engines differ in whether they report a position; find it ourselves.
    const found = locateJsonError(text);
    if (!found) return { ok: false, message: `Invalid JSON: ${(error as Error).message}` };
    const before = text.slice(0, found.offset);
    const line = before.split('\n').length;
    const column = found.offset - before.lastIndexOf('\n');
    return { ok: false, message: `Invalid JSON at line ${line}, column ${column}: ${found.message}`, line, column };
  }
}

/**
 * Find the first syntax error in JSON text: its offset and what was expected there. A small recursive-descent
 * scan, used only after JSON.parse has failed.
 */
export function locateJsonError(text: string): { offset: number; message: string } | undefined {
  let i = 0;
  class Stop extends Error {
    constructor(readonly offset: number, message: string) {
      super(message);
    }
  }
  const describe = (at: number) => (at >= text.length ? 'the end of the text' : `"${text[at]}"`);
  const fail = (message: string): never => {
    throw new Stop(i, `${message}, found ${describe(i)}`);
  };
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('expected a value');
  };
  const string = () => {
    i++; // opening quote
    while (i < text.length && text[i] !== '"') {
      const c = text.charCodeAt(i);
      if (c < 0x20) throw new Stop(i, 'control character in a string (a line break inside quotes?)');
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) throw new Stop(i, 'bad \\u escape in a string');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? '')) throw new Stop(i, 'bad escape in a string');
      }
      i++;
    }
    if (i >= text.length) throw new Stop(i, 'unterminated string');
    i++;
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match) fail('expected a value');
    i += match![0].length;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{') {
      i++;
      space();
      if (text[i] === '}') return void i++;
      for (;;) {
        space();
        if (text[i] !== '"') fail('expected a property name in double quotes');
        string();
        space();
        if (text[i] !== ':') fail('expected ":" after the property name');
        i++;
        value();
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      space();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail('expected "," or "]"');
      }
    }
    if (c === '"') return string();
    if (c === 't') return literal('true');
    if (c === 'f') return literal('false');
    if (c === 'n') return literal('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return number();
    fail('expected a value');
  };
  try {
    value();
    space();
    if (i < text.length) fail('expected the end of the text (only one JSON value is allowed)');
    return undefined;
  } catch (error) {
    if (error instanceof Stop) return { offset: error.offset, message: error.message };
    throw error;
  }
}

/** Pretty-print a value for display; never throws. */
export function pretty(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value, null, 2) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Pretty-print a runtime preview (JSON text that may have been cut short). */
export function prettyPreview(preview: { json: string; truncated: boolean }): string {
  if (preview.truncated) return `${preview.json} …`;
  try {
    return JSON.stringify(JSON.parse(preview.json), null, 2);
  } catch {
    return preview.json;
  }
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatTime(epochMs: number | null | undefined): string {
  if (!epochMs) return '–';
  const d = new Date(epochMs);
  return d.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
