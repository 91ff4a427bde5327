/**
 * Output schemas for tasks: compiled once (at deploy, so a broken schema is a deploy error), then used to read a
 * model's answer leniently (see parseModelJson) and check it strictly with ajv. The errors are phrased for the
 * model, because they go back to it in the retry prompt.
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import type { JsonSchema } from '@flowcrew/sdk';
import { parseModelJson } from '../providers/model-json.ts';

const ajv = createSchemaValidator();
const compiled = new Map<string, ValidateFunction>();

export type CheckedOutput = { ok: true; value: unknown } | { ok: false; problem: string };

export class OutputSchema {
  private readonly validate: ValidateFunction;

  constructor(readonly schema: JsonSchema) {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      try {
        validate = ajv.compile(schema);
      } catch (error) {
        throw new Error(`output schema is not a valid JSON Schema: ${(error as Error).message}`);
      }
      if (compiled.size < 500) compiled.set(key, validate);
    }
    this.validate = validate;
  }

  check(answer: string): CheckedOutput {
    const parsed = parseModelJson(answer);
    if (!parsed.ok) return { ok: false, problem: parsed.error };
    if (this.validate(parsed.value)) return { ok: true, value: parsed.value };
    const problems = (this.validate.errors ?? []).slice(0, 8).map((e) => {
      const where = e.instancePath ? `at ${e.instancePath}` : 'at the top level';
      const extra = e.keyword === 'additionalProperties' ? ` ("${(e.params as { additionalProperty: string }).additionalProperty}")` : e.keyword === 'enum' ? ` (${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)})` : '';
      return `${where}: ${e.message}${extra}`;
    });
    return { ok: false, problem: `does not match the schema: ${problems.join('; ')}` };
  }
}
