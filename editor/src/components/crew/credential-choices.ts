/**
 * Credential pickers inside a node's props: a node type may name more credentials in its props
 * (`credentials.inProps`, JSON pointers with `*` for every array item: an AI crew's `/agents/STAR/credential` and
 * `/manager/credential`). The runtime binds and checks those like the node's own credential; the form shows each as a
 * choice among the stored credentials of the node's credential type (by name), instead of a box for an id. Done by
 * giving the form a copy of the props schema whose fields there are enums (titles = the names), so any pack's node
 * gets it and the form needs nothing new. The runtime still validates against the pack's own schema.
 */
import type { CredentialInfo, JsonSchema } from '../../api/types';

/** What empty means in such a field. */
export const OWN_CREDENTIAL_HINT = "the node's credential";

/** The last schema made per pack schema: the same object back while the choices stay the same (no form re-render per keystroke). */
const made = new WeakMap<JsonSchema, { key: string; schema: JsonSchema }>();

export function withCredentialChoices(
  schema: JsonSchema,
  credentials: { type: string; inProps?: readonly string[] } | undefined,
  stored: readonly CredentialInfo[],
  props: unknown,
): JsonSchema {
  const patterns = credentials?.inProps ?? [];
  if (!patterns.length) return schema;
  const choices = stored.filter((c) => c.type === credentials!.type);
  // An id the props hold that is not among the choices (deleted, another project's) stays visible as such.
  const held = patterns.map((pattern) => [...new Set(valuesAt(props, pattern.split('/').slice(1)).filter((v): v is string => typeof v === 'string' && v !== '' && !choices.some((c) => c.id === v)))]);
  const key = JSON.stringify([choices.map((c) => [c.id, c.name]), held]);
  const last = made.get(schema);
  if (last?.key === key) return last.schema;
  let result = schema;
  patterns.forEach((pattern, i) => {
    result = replaceAt(result, pattern.split('/').slice(1), (leaf) => ({
      ...leaf,
      enum: [...choices.map((c) => c.id), ...held[i]!],
      'x-enumTitles': [...choices.map((c) => c.name), ...held[i]!.map((id) => `${id} (not found)`)],
      'x-placeholder': OWN_CREDENTIAL_HINT,
    }));
  });
  made.set(schema, { key, schema: result });
  return result;
}

/** A copy of `schema` with the sub-schema at `path` (property names, `*` = array items) replaced; unchanged if absent. */
function replaceAt(schema: JsonSchema, path: string[], change: (leaf: JsonSchema) => JsonSchema): JsonSchema {
  if (path.length === 0) return change(schema);
  const [head, ...rest] = path;
  if (head === '*') {
    const items = schema.items;
    return items && typeof items === 'object' && !Array.isArray(items) ? { ...schema, items: replaceAt(items as JsonSchema, rest, change) } : schema;
  }
  const properties = schema.properties as Record<string, JsonSchema> | undefined;
  const sub = properties?.[head!];
  return sub ? { ...schema, properties: { ...properties, [head!]: replaceAt(sub, rest, change) } } : schema;
}

function valuesAt(value: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [value];
  const [head, ...rest] = path;
  if (head === '*') return Array.isArray(value) ? value.flatMap((v) => valuesAt(v, rest)) : [];
  return value && typeof value === 'object' && head! in value ? valuesAt((value as Record<string, unknown>)[head!], rest) : [];
}
