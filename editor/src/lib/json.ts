/** JSON helpers for what users type or paste: errors that say where the problem is. */

export type ParseResult = { ok: true; value: unknown } | { ok: false; message: string; line?: number; column?: number };

/** Parse JSON; on failure, say what is wrong and at which line and column. */
export function parseJson(text: string): ParseResult {
  if (text.trim() === '') return { ok: false, message: 'The text is empty: paste or choose a JSON document.' };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const raw = (error as Error).message;
    // V8 reports "... at position 123" (and sometimes line/column itself); derive line and column from the position.
    const position = /position (\d+)/.exec(raw);
    const reason = raw.replace(/^JSON\.parse: /, '').replace(/ in JSON at position \d+.*$/, '').replace(/\s*\(line \d+ column \d+\)$/, '');
    if (position) {
      const offset = Number(position[1]);
      const before = text.slice(0, offset);
      const line = before.split('\n').length;
      const column = offset - before.lastIndexOf('\n');
      return { ok: false, message: `Invalid JSON at line ${line}, column ${column}: ${reason}`, line, column };
    }
    const lineCol = /line (\d+) column (\d+)/.exec(raw);
    if (lineCol) return { ok: false, message: `Invalid JSON at line ${lineCol[1]}, column ${lineCol[2]}: ${reason}`, line: Number(lineCol[1]), column: Number(lineCol[2]) };
    return { ok: false, message: `Invalid JSON: ${reason}` };
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
