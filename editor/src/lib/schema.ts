/**
 * How the property form reads a JSON Schema: which widget a (sub)schema gets, its label, and the value a new
 * array item or variant starts with. The runtime validates the same schemas with ajv (see validation.ts).
 */
import type { ComputedRef, InjectionKey } from 'vue';
import type { JsonSchema } from '../api/types';

/** The whole value of the form a field is in (provided by SchemaForm). */
export const FORM_ROOT: InjectionKey<ComputedRef<Record<string, unknown>>> = Symbol('form-root');

/** Choices the runtime answers for a field with `x-optionsSource` (provided by the node's property panel). */
export const REMOTE_OPTIONS: InjectionKey<(source: string) => Promise<Array<{ value: string; label?: string; description?: string }>>> = Symbol('remote-options');

export type FieldKind =
  | 'code' // CodeMirror editor
  | 'string'
  | 'text' // multi-line plain text
  | 'password'
  | 'number'
  | 'integer'
  | 'boolean'
  | 'enum'
  | 'const'
  | 'scalar-union' // type: ['string', 'number', 'boolean', 'null'] and the like
  | 'number-or-text' // type: ['number', 'string']: one box, a number when it reads as one (Node-RED's habit)
  | 'object' // known properties: a nested form
  | 'map' // free-form object: edited as JSON
  | 'array'
  | 'variants' // oneOf / anyOf
  | 'json'; // anything else: edited as JSON, parsed and checked

/** Prop names that hold code or expressions even when the pack's schema does not say so. */
const CODE_PROP_NAMES = new Set(['func', 'expression', 'template', 'initialize', 'finalize']);

export type CodeLanguage = 'javascript' | 'jsonata' | 'mustache' | 'text';

const SCALAR_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null']);

export function schemaTypes(schema: JsonSchema): string[] {
  const type = schema.type;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  return [];
}

export function isCodeField(schema: JsonSchema, name: string | undefined): boolean {
  const types = schemaTypes(schema);
  if (types.length > 0 && !(types.length === 1 && types[0] === 'string')) return false;
  if (schema['x-editor'] === 'code') return true;
  // A declared format says what the text is: a cron "expression" is not JSONata.
  if (typeof schema.format === 'string' && !['javascript', 'jsonata', 'mustache'].includes(schema.format)) return false;
  if (schema.format === 'javascript' || schema.format === 'jsonata' || schema.format === 'mustache') return true;
  if (schema['x-language'] === 'javascript' || schema['x-language'] === 'jsonata' || schema['x-language'] === 'mustache') return true;
  return name !== undefined && CODE_PROP_NAMES.has(name) && (types[0] === 'string' || types.length === 0) && !Array.isArray(schema.enum);
}

export function codeLanguage(schema: JsonSchema, name: string | undefined): CodeLanguage {
  if (schema.format === 'javascript' || schema['x-language'] === 'javascript') return 'javascript';
  if (schema.format === 'jsonata' || schema['x-language'] === 'jsonata') return 'jsonata';
  if (schema.format === 'mustache' || schema['x-language'] === 'mustache') return 'mustache';
  if (name === 'func' || name === 'initialize' || name === 'finalize') return 'javascript';
  if (name === 'expression') return 'jsonata';
  return 'text';
}

export function fieldKind(schema: JsonSchema, name?: string): FieldKind {
  if ('const' in schema) return 'const';
  if (Array.isArray(schema.enum)) return 'enum';
  if (Array.isArray(schema.oneOf) || Array.isArray(schema.anyOf)) return 'variants';
  if (isCodeField(schema, name)) return 'code';
  const types = schemaTypes(schema);
  if (types.length === 2 && types.includes('string') && (types.includes('number') || types.includes('integer'))) return 'number-or-text';
  if (types.length > 1) return types.every((t) => SCALAR_TYPES.has(t)) ? 'scalar-union' : 'json';
  switch (types[0]) {
    case 'string':
      if (schema.format === 'password' || schema.writeOnly === true || schema['x-editor'] === 'password') return 'password';
      if (schema['x-editor'] === 'textarea' || (typeof schema.maxLength === 'number' && schema.maxLength > 200) || (typeof schema.minLength === 'number' && schema.minLength > 80)) return 'text';
      return 'string';
    case 'number':
      return 'number';
    case 'integer':
      return 'integer';
    case 'boolean':
      return 'boolean';
    case 'object':
      return schema.properties && typeof schema.properties === 'object' ? 'object' : 'map';
    case 'array':
      return 'array';
    default:
      if (schema.properties && typeof schema.properties === 'object') return 'object';
      return 'json';
  }
}

/**
 * What a select shows for an enum option: the schema's `x-enumTitles` at the same index (e.g. "==" for "eq"),
 * else the value itself. The stored value is always the enum's.
 */
export function enumOptionLabel(schema: JsonSchema, option: unknown, index: number): string {
  const titles = schema['x-enumTitles'];
  if (Array.isArray(titles) && typeof titles[index] === 'string' && titles[index]) return titles[index] as string;
  return typeof option === 'string' ? option : JSON.stringify(option);
}

/** The schema's `title`, else the key made readable: `responseTimeoutMs` → "Response timeout (ms)". */
export function fieldLabel(schema: JsonSchema, name: string): string {
  return typeof schema.title === 'string' && schema.title ? schema.title : humanise(name);
}

const UNITS: Record<string, string> = { Ms: 'ms', Sec: 's', Secs: 's', Seconds: 's', Minutes: 'min', Bytes: 'bytes' };
const ACRONYMS = new Set(['url', 'id', 'http', 'json', 'xml', 'csv', 'api', 'sql', 'tls', 'html', 'ip', 'uri', 'ms']);

export function humanise(key: string): string {
  // Array items are named like "rules[2]": keep them as they are.
  if (!key || /[[\]]/.test(key)) return key;
  const unit = Object.keys(UNITS).find((u) => key.length > u.length && key.endsWith(u) && /[a-z0-9]/.test(key[key.length - u.length - 1]!));
  const base = unit ? key.slice(0, -unit.length) : key;
  const words = base
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .trim()
    .split(/\s+/)
    .map((w, i) => (ACRONYMS.has(w.toLowerCase()) ? w.toUpperCase() : i === 0 ? w.charAt(0).toUpperCase() + w.slice(1) : w.toLowerCase()));
  const text = words.join(' ');
  return unit ? `${text} (${UNITS[unit]})` : text;
}

/**
 * The properties a form shows for an object value: its own, plus those JSON Schema adds conditionally for this
 * value (`if`/`then`/`else`, `dependentSchemas`, and `allOf` of such), minus those a condition rules out. A
 * property that appears only inside a `then` is shown only when the `if` holds, so a mode's fields come and go
 * with the mode.
 */
export function visibleProperties(schema: JsonSchema, value: Record<string, unknown>): Record<string, JsonSchema> {
  const own = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const conditional = new Set<string>();
  const active: Record<string, JsonSchema> = {};
  const visit = (s: JsonSchema) => {
    if (s.if && typeof s.if === 'object') {
      const then = (s.then ?? {}) as JsonSchema;
      const otherwise = (s.else ?? {}) as JsonSchema;
      for (const branch of [then, otherwise]) for (const key of Object.keys((branch.properties ?? {}) as object)) conditional.add(key);
      const chosen = conditionHolds(s.if as JsonSchema, value, own) ? then : otherwise;
      for (const [key, sub] of Object.entries((chosen.properties ?? {}) as Record<string, JsonSchema>)) active[key] = { ...(own[key] ?? {}), ...sub };
      visit(chosen);
    }
    for (const [trigger, dependent] of Object.entries((s.dependentSchemas ?? {}) as Record<string, JsonSchema>)) {
      for (const key of Object.keys((dependent.properties ?? {}) as object)) conditional.add(key);
      if (value[trigger] !== undefined && value[trigger] !== false) {
        for (const [key, sub] of Object.entries((dependent.properties ?? {}) as Record<string, JsonSchema>)) active[key] = { ...(own[key] ?? {}), ...sub };
      }
    }
    if (Array.isArray(s.allOf)) for (const part of s.allOf as JsonSchema[]) visit(part);
  };
  visit(schema);
  const result: Record<string, JsonSchema> = {};
  for (const [key, sub] of Object.entries(own)) if (!conditional.has(key) || key in active) result[key] = active[key] ?? sub;
  for (const [key, sub] of Object.entries(active)) if (!(key in result)) result[key] = sub;
  return result;
}

/** Whether a value satisfies an `if` schema, as far as forms write them: const/enum of properties, required. */
function conditionHolds(condition: JsonSchema, value: Record<string, unknown>, declared: Record<string, JsonSchema>): boolean {
  const required = Array.isArray(condition.required) ? (condition.required as string[]) : [];
  if (required.some((key) => value[key] === undefined)) return false;
  for (const [key, sub] of Object.entries((condition.properties ?? {}) as Record<string, JsonSchema>)) {
    // A property the value does not have takes its default (what the node itself will use).
    const actual = value[key] !== undefined ? value[key] : (declared[key]?.default ?? sub.default);
    if ('const' in sub && JSON.stringify(actual) !== JSON.stringify(sub.const)) return false;
    if (Array.isArray(sub.enum) && !sub.enum.some((option) => JSON.stringify(option) === JSON.stringify(actual))) return false;
    if (sub.not && typeof sub.not === 'object' && 'const' in (sub.not as JsonSchema) && JSON.stringify(actual) === JSON.stringify((sub.not as JsonSchema).const)) return false;
  }
  return true;
}

export function variants(schema: JsonSchema): JsonSchema[] {
  const list = (schema.oneOf ?? schema.anyOf) as unknown;
  return Array.isArray(list) ? (list.filter((s) => s && typeof s === 'object') as JsonSchema[]) : [];
}

export function variantLabel(schema: JsonSchema, index: number): string {
  if (typeof schema.title === 'string') return schema.title;
  if ('const' in schema) return JSON.stringify(schema.const);
  const types = schemaTypes(schema);
  if (types.length) return types.join(' | ');
  return `option ${index + 1}`;
}

/** The variant a value currently matches, judged by JSON type (enough for the oneOf/anyOf shapes packs write). */
export function matchVariant(schema: JsonSchema, value: unknown): number {
  const list = variants(schema);
  const actual = jsonType(value);
  // Object variants told apart by a discriminator (properties with a `const`, e.g. provider: 'anthropic').
  const discriminated = list.filter((v) => constProperties(v).length > 0);
  if (actual === 'object' && discriminated.length > 0) {
    const record = value as Record<string, unknown>;
    return list.findIndex((v) => {
      const consts = constProperties(v);
      return consts.length > 0 && consts.every(([key, sub]) => JSON.stringify(record[key]) === JSON.stringify(sub.const));
    });
  }
  const index = list.findIndex((v) => {
    if ('const' in v) return v.const === value;
    const types = schemaTypes(v);
    if (types.length === 0) return v.properties ? actual === 'object' : false;
    return types.includes(actual) || (actual === 'integer' && types.includes('number')) || (actual === 'number' && types.includes('integer') && Number.isInteger(value));
  });
  return index;
}

function constProperties(schema: JsonSchema): Array<[string, JsonSchema]> {
  return Object.entries((schema.properties ?? {}) as Record<string, JsonSchema>).filter(([, sub]) => sub && typeof sub === 'object' && 'const' in sub);
}

export function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** A starting value for a new array item or a newly chosen variant: the default, else an empty value of the type. */
export function initialValue(schema: JsonSchema): unknown {
  if ('default' in schema) return structuredClone(schema.default);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum)) return schema.enum[0];
  const list = variants(schema);
  if (list.length) return initialValue(list[0]!);
  const type = schemaTypes(schema)[0];
  switch (type) {
    case 'string':
      return '';
    case 'number':
    case 'integer':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return [];
    case 'object':
    default: {
      if (type !== 'object' && !schema.properties) return undefined;
      const result: Record<string, unknown> = {};
      const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set(Array.isArray(schema.required) ? (schema.required as string[]) : []);
      for (const [key, sub] of Object.entries(props)) {
        if ('default' in sub || required.has(key)) {
          const value = initialValue(sub);
          if (value !== undefined) result[key] = value;
        }
      }
      return result;
    }
  }
}

/**
 * Node-RED's typed inputs: a value property and the property that says how to read it (`payload` + `payloadType`,
 * `v` + `vt`, `to` + `tot`, or any pair the value names with `x-typeProperty`, e.g. debug's `complete` +
 * `targetType`), shown as one control (type, then value). Returns value key → type key.
 */
export function typedPairs(properties: Record<string, JsonSchema>): Map<string, string> {
  const pairs = new Map<string, string>();
  for (const key of Object.keys(properties)) {
    const named = properties[key]!['x-typeProperty'];
    const candidates = typeof named === 'string' ? [named] : [`${key}Type`, `${key}t`, `${key}type`];
    const partner = candidates.find((k) => k in properties && Array.isArray(properties[k]!.enum));
    const valueTypes = schemaTypes(properties[key]!);
    // The value is text (or anything) to be read per its type; a value that is an object or array is not.
    if (partner && !pairs.has(partner) && (valueTypes.length === 0 || valueTypes.includes('string'))) pairs.set(key, partner);
  }
  return pairs;
}

/** Typed-input types that take no value (Node-RED's "whole message"): the value box is hidden. */
export const VALUELESS_TYPES: ReadonlySet<string> = new Set(['full']);

/**
 * `x-placeholderFrom: { prop, values }`: an empty field shows, greyed, the text its sibling `prop` chooses (a crew
 * agent's template fills role, goal and backstory at run time: the form shows that text instead of empty boxes).
 */
export function withSiblingPlaceholder(schema: JsonSchema, siblings: Record<string, unknown>): JsonSchema {
  const from = schema['x-placeholderFrom'] as { prop?: unknown; values?: unknown } | undefined;
  if (!from || typeof from !== 'object' || typeof from.prop !== 'string' || !from.values || typeof from.values !== 'object') return schema;
  const chosen = siblings[from.prop];
  const text = typeof chosen === 'string' ? (from.values as Record<string, unknown>)[chosen] : undefined;
  return typeof text === 'string' ? { ...schema, 'x-placeholder': text } : schema;
}

/** What a number-or-text box holds: a number when the text is one, else the text (empty: nothing). */
export function numberOrText(text: string): number | string | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(trimmed) ? Number(trimmed) : text;
}

/** Join JSON pointer segments, escaping as RFC 6901 says. */
export function pointerJoin(base: string, key: string | number): string {
  return `${base}/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`;
}

/**
 * Choices a field takes from elsewhere in the same form: `x-optionsFrom` is a path such as "/agents/STAR/key"
 * (STAR standing for "*", every item of the array: here the `key` of every agent), so a task's agent is picked
 * from the agents defined above it rather than typed. Only non-empty strings count, each once, in order.
 */
export function optionsFrom(root: unknown, path: string): string[] {
  let current: unknown[] = [root];
  for (const raw of path.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const next: unknown[] = [];
    for (const value of current) {
      if (key === '*') {
        if (Array.isArray(value)) next.push(...value);
      } else if (value && typeof value === 'object' && key in (value as object)) next.push((value as Record<string, unknown>)[key]);
    }
    current = next;
  }
  return [...new Set(current.filter((v): v is string => typeof v === 'string' && v !== ''))];
}
