/**
 * JSON Schemas written by users (test assertions, a sub-flow's input and output) are compiled in the host: their
 * `pattern`s run on the SDK's SafeRegExp (linear time, or under the regex deadline), so a hostile pattern fails its own
 * check instead of stalling the process. The shared set-up otherwise (@flowcrew/sdk/schema: formats as in node props).
 */
import { SafeRegExp } from '@flowcrew/sdk/util';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { createSchemaValidator } from '@flowcrew/sdk/schema';

type RegExpEngine = ((pattern: string, flags: string) => { test(s: string): boolean }) & { code: string };
const safeRegExp: RegExpEngine = Object.assign((pattern: string, flags: string) => new SafeRegExp(pattern, flags), { code: 'SafeRegExp' });

export function createUserSchemaValidator(): Ajv2020 {
  return createSchemaValidator({ regExp: safeRegExp });
}

/** Where a schema uses a regular expression keyword (pattern, patternProperties), as a JSON pointer; undefined if nowhere. */
export function regexKeywordAt(schema: unknown, at = ''): string | undefined {
  if (!schema || typeof schema !== 'object') return undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'pattern' || key === 'patternProperties') return `${at}/${key}`;
    const inner = regexKeywordAt(value, `${at}/${key}`);
    if (inner) return inner;
  }
  return undefined;
}
