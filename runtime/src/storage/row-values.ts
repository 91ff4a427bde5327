/** Reading column values the same way from both drivers (better-sqlite3 and pg), and an UPDATE's SET list. */
import type { SqlParam } from './sql-driver.ts';

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

/**
 * An UPDATE's SET list: `column = ?` for each field of `update` that is defined (`null` clears the column,
 * `undefined` leaves it as is), with its value as a parameter (a boolean as 1/0).
 */
export function assignments<K extends string>(update: { readonly [F in NoInfer<K>]?: SqlParam | boolean }, columns: Readonly<Record<K, string>>): { sets: string[]; params: SqlParam[] } {
  const sets: string[] = [];
  const params: SqlParam[] = [];
  for (const field of Object.keys(columns) as K[]) {
    const value = update[field];
    if (value === undefined) continue;
    sets.push(`${columns[field]} = ?`);
    params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  }
  return { sets, params };
}
