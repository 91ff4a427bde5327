/** Reading column values the same way from both drivers (better-sqlite3 and pg). */

/** BIGINT can come back as string (pg without a type parser) or bigint; epoch ms fit a double exactly. */
export function num(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint' || typeof value === 'string') return Number(value);
  throw new Error(`Expected a number from the database, got ${value === null ? 'null' : typeof value}.`);
}

export function numOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : num(value);
}

export function strOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

/** A JSON text column; SQL NULL reads as null. */
export function jsonOrNull(value: unknown): unknown {
  return value === null || value === undefined ? null : JSON.parse(String(value));
}
