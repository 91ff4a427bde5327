/**
 * Turn a JSON Schema (a node's props schema, an MCP tool's input schema, a task's output schema) into the subset
 * node-llama-cpp can compile into a grammar. The grammar only constrains what the local model may generate;
 * keywords it cannot express (minimum, pattern, ...) are dropped here and still enforced afterwards by ajv.
 */
import type { GbnfJsonSchema } from 'node-llama-cpp';

type Schema = Record<string, unknown>;

const BASIC = new Set(['string', 'number', 'integer', 'boolean', 'null']);
const STRING_FORMATS = new Set(['date-time', 'time', 'date']);
const MAX_REF_DEPTH = 6;

/** Any JSON value. */
const ANY: GbnfJsonSchema = {
  oneOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'object', additionalProperties: true }, { type: 'array' }],
};

export function toGbnfSchema(schema: unknown): GbnfJsonSchema {
  const root = (schema && typeof schema === 'object' ? schema : {}) as Schema;
  const defs = { ...((root.definitions as Schema) ?? {}), ...((root.$defs as Schema) ?? {}) };
  return convert(root, defs, 0);
}

function convert(input: unknown, defs: Schema, depth: number): GbnfJsonSchema {
  if (input === true || input === undefined || input === null) return ANY;
  if (input === false || typeof input !== 'object') return ANY;
  const s = input as Schema;
  const description = typeof s.description === 'string' ? { description: s.description } : {};

  if (typeof s.$ref === 'string') {
    const name = /^#\/(?:\$defs|definitions)\/(.+)$/.exec(s.$ref)?.[1];
    if (!name || !(name in defs) || depth >= MAX_REF_DEPTH) return ANY;
    return convert(defs[name], defs, depth + 1);
  }
  if ('const' in s && isPrimitive(s.const)) return { const: s.const as string | number | boolean | null, ...description };
  if (Array.isArray(s.enum)) {
    const values = s.enum.filter(isPrimitive) as Array<string | number | boolean | null>;
    if (values.length) return { enum: values, ...description };
  }
  const alternatives = (s.oneOf ?? s.anyOf) as unknown[] | undefined;
  if (Array.isArray(alternatives) && alternatives.length) {
    return { oneOf: alternatives.map((a) => convert(a, defs, depth + 1)), ...description };
  }
  if (Array.isArray(s.allOf) && s.allOf.length) return convert(mergeAllOf(s), defs, depth + 1);

  const type = s.type ?? inferType(s);
  if (Array.isArray(type)) {
    const types = type.filter((t): t is string => typeof t === 'string');
    if (types.every((t) => BASIC.has(t))) return { type: types as Array<'string'>, ...description };
    return { oneOf: types.map((t) => convert({ ...s, type: t }, defs, depth + 1)), ...description };
  }
  switch (type) {
    case 'object': {
      const properties = (s.properties ?? {}) as Schema;
      const names = Object.keys(properties);
      if (names.length === 0) return { type: 'object', additionalProperties: true, ...description };
      const converted: Record<string, GbnfJsonSchema> = {};
      for (const name of names) converted[name] = convert(properties[name], defs, depth + 1);
      const required = Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === 'string' && names.includes(r)) : [];
      // Extra keys invite a small model to ramble; allow them only when the schema asks for it.
      const additional = s.additionalProperties && typeof s.additionalProperties === 'object' ? convert(s.additionalProperties, defs, depth + 1) : s.additionalProperties === true;
      return { type: 'object', properties: converted, required, additionalProperties: additional, ...description } as GbnfJsonSchema;
    }
    case 'array': {
      const out: Record<string, unknown> = { type: 'array', ...description };
      if (Array.isArray(s.prefixItems)) out.prefixItems = s.prefixItems.map((i) => convert(i, defs, depth + 1));
      if (Array.isArray(s.items)) out.prefixItems = s.items.map((i) => convert(i, defs, depth + 1));
      else if (s.items !== undefined) out.items = convert(s.items, defs, depth + 1);
      if (typeof s.minItems === 'number') out.minItems = s.minItems;
      if (typeof s.maxItems === 'number') out.maxItems = s.maxItems;
      return out as GbnfJsonSchema;
    }
    case 'string': {
      if (typeof s.format === 'string' && STRING_FORMATS.has(s.format)) return { type: 'string', format: s.format as 'date', ...description };
      const out: Record<string, unknown> = { type: 'string', ...description };
      if (typeof s.minLength === 'number') out.minLength = s.minLength;
      if (typeof s.maxLength === 'number') out.maxLength = s.maxLength;
      return out as GbnfJsonSchema;
    }
    case 'number':
    case 'integer':
    case 'boolean':
    case 'null':
      return { type: type as 'string', ...description };
    default:
      return ANY;
  }
}

function inferType(s: Schema): string | undefined {
  if (s.properties) return 'object';
  if (s.items || s.prefixItems) return 'array';
  return undefined;
}

function mergeAllOf(s: Schema): Schema {
  const merged: Schema = { type: 'object', properties: {}, required: [] };
  for (const part of s.allOf as Schema[]) {
    if (!part || typeof part !== 'object') continue;
    Object.assign(merged.properties as Schema, part.properties ?? {});
    (merged.required as unknown[]).push(...((part.required as unknown[]) ?? []));
  }
  return merged;
}

function isPrimitive(value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}
