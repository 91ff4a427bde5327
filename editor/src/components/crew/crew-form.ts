/**
 * The rules behind the crew node's card form (CrewForm.vue), kept apart from the view so they are tested alone:
 * which tasks a task may take context from (only EARLIER ones, CrewAI's rule, also checked at deploy by the crew
 * node), what a task's context means (not set: every earlier task; []: none; keys: those), what renaming, moving or
 * removing a task or agent does to the references to it, and a flat structured-output schema as rows of fields.
 */
import type { JsonSchema } from '../../api/types';
import { fieldLabel, humanise } from '../../lib/schema';

export type Row = Record<string, unknown>;

/** Keys of the tasks before `index` (the only ones its context may name). */
export function earlierTaskKeys(tasks: readonly Row[], index: number): string[] {
  return tasks.slice(0, Math.max(0, index)).map((t) => t.key).filter((k): k is string => typeof k === 'string' && k !== '');
}

/**
 * The crew's task order as the crew node builds it: with a CrewAI source, tasks.yaml's tasks in their order (a card
 * with an imported key adds to that task), then the other cards'; else the cards' order.
 */
export function crewTaskOrder(imported: readonly string[], tasks: readonly Row[]): string[] {
  const inline = tasks.map((t) => t.key).filter((k): k is string => typeof k === 'string' && k !== '');
  return [...new Set([...imported, ...inline])];
}

/** Keys of the tasks that run before the card at `index` (the only ones its context may name). */
export function earlierInCrew(imported: readonly string[], tasks: readonly Row[], index: number): string[] {
  const key = tasks[index]?.key;
  if (!imported.length || typeof key !== 'string' || !key) return earlierTaskKeys(tasks, index);
  const order = crewTaskOrder(imported, tasks);
  return order.slice(0, order.indexOf(key));
}

export type ContextMode = 'all' | 'none' | 'chosen';

/** What a task's `context` means, as the crew node reads it. */
export function contextMode(task: Row): ContextMode {
  if (!Array.isArray(task.context)) return 'all';
  return task.context.length === 0 ? 'none' : 'chosen';
}

/** The task with its context set to a mode; "chosen" starts with the task just before it (the usual pick). */
export function withContextMode(task: Row, mode: ContextMode, earlier: readonly string[]): Row {
  const next = { ...task };
  if (mode === 'all') delete next.context;
  else if (mode === 'none') next.context = [];
  else next.context = earlier.length ? [earlier[earlier.length - 1]!] : [];
  return next;
}

/** The task with `key` added to or taken from its context, in the order of the earlier tasks. */
export function withContextKey(task: Row, key: string, on: boolean, earlier: readonly string[]): Row {
  const current = Array.isArray(task.context) ? (task.context as string[]) : [];
  const chosen = on ? earlier.filter((k) => k === key || current.includes(k)) : current.filter((k) => k !== key);
  return { ...task, context: chosen };
}

/** Context keys a task names that are not earlier tasks (a moved task, a typo in imported props): shown as problems. */
export function misplacedContext(task: Row, earlier: readonly string[]): string[] {
  if (!Array.isArray(task.context)) return [];
  return (task.context as unknown[]).filter((k): k is string => typeof k === 'string' && !earlier.includes(k));
}

/** Tasks after renaming task `from` to `to`: later tasks' context follows the new name. */
export function renameTask(tasks: readonly Row[], index: number, to: string): Row[] {
  const from = tasks[index]?.key;
  return tasks.map((t, i) => {
    if (i === index) return { ...t, key: to };
    if (typeof from !== 'string' || !from || !Array.isArray(t.context) || !(t.context as string[]).includes(from)) return t;
    return { ...t, context: (t.context as string[]).map((k) => (k === from ? to : k)) };
  });
}

/** Tasks without the one at `index`; later tasks no longer name it as context. */
export function removeTask(tasks: readonly Row[], index: number): Row[] {
  const key = tasks[index]?.key;
  return tasks.filter((_, i) => i !== index).map((t) => (Array.isArray(t.context) && (t.context as string[]).includes(key as string) ? { ...t, context: (t.context as string[]).filter((k) => k !== key) } : t));
}

/**
 * Tasks with the one at `index` moved by `by`; context that is no longer earlier is dropped (it would be refused at
 * deploy). With a CrewAI source the order of imported tasks is tasks.yaml's, so nothing is dropped (`prune` false).
 */
export function moveTask(tasks: readonly Row[], index: number, by: number, prune = true): Row[] {
  const target = index + by;
  if (target < 0 || target >= tasks.length) return [...tasks];
  const next = [...tasks];
  const [moved] = next.splice(index, 1);
  next.splice(target, 0, moved!);
  if (!prune) return next;
  return next.map((t, i) => {
    if (!Array.isArray(t.context)) return t;
    const earlier = earlierTaskKeys(next, i);
    const kept = (t.context as string[]).filter((k) => earlier.includes(k));
    return kept.length === (t.context as string[]).length ? t : { ...t, context: kept };
  });
}

/** Tasks after renaming agent `from` to `to`: tasks that were assigned to it stay assigned. */
export function renameAgentInTasks(tasks: readonly Row[], from: unknown, to: string): Row[] {
  if (typeof from !== 'string' || !from) return [...tasks];
  return tasks.map((t) => (t.agent === from ? { ...t, agent: to } : t));
}

/** A key not used yet: base, base_2, base_3... */
export function freshKey(base: string, taken: readonly unknown[]): string {
  if (!taken.includes(base)) return base;
  for (let n = 2; ; n++) if (!taken.includes(`${base}_${n}`)) return `${base}_${n}`;
}

// ---- an object schema as rows of fields (a task's structured output; a sub-flow's input, output, properties) ----

export const FIELD_TYPES = ['string', 'number', 'integer', 'boolean', 'list of text', 'list of numbers'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface OutputField {
  name: string;
  /** 'kept': a field rows cannot describe (nested object, list of objects...): kept exactly as written. */
  type: FieldType | 'kept';
  description: string;
  required: boolean;
  /** The default as typed (scalar types only); empty: none. */
  default: string;
  /** The field's other keywords (minimum, pattern, enum...), kept as they were. */
  keep: JsonSchema;
}

function fieldType(schema: JsonSchema): FieldType | null {
  const type = schema.type;
  if (type === 'string' || type === 'number' || type === 'integer' || type === 'boolean') return type;
  if (type === 'array' && schema.items && typeof schema.items === 'object' && Object.keys(schema.items as object).length === 1) {
    const item = (schema.items as JsonSchema).type;
    if (item === 'string') return 'list of text';
    if (item === 'number') return 'list of numbers';
  }
  return null;
}

const TOP_KEYS = ['type', 'properties', 'required'];

/**
 * The rows of an object schema, or null when it is not one rows can hold without losing anything (not an object,
 * or not `type: object`). Keywords rows do not edit are kept: per field in `keep`, at the top by schemaOfFields' base.
 */
export function outputFields(schema: unknown): OutputField[] | null {
  if (schema === undefined) return [];
  if (!schema || typeof schema !== 'object' || Array.isArray(schema)) return null;
  const s = schema as JsonSchema;
  if (s.type !== 'object' || (s.properties !== undefined && (typeof s.properties !== 'object' || Array.isArray(s.properties)))) return null;
  const required = Array.isArray(s.required) ? (s.required as string[]) : [];
  return Object.entries((s.properties ?? {}) as Record<string, JsonSchema>).map(([name, sub]) => {
    const type = sub && typeof sub === 'object' ? fieldType(sub) : null;
    const { description, default: value, ...rest } = (sub && typeof sub === 'object' ? sub : {}) as JsonSchema;
    const scalar = type && !type.startsWith('list') && (value === undefined || typeof value !== 'object');
    const keep = { ...rest } as JsonSchema;
    if (type) {
      delete keep.type;
      if (type.startsWith('list')) delete keep.items;
    }
    if (value !== undefined && !scalar) keep.default = value;
    return { name, type: type ?? 'kept', description: typeof description === 'string' ? description : '', required: required.includes(name), default: scalar && value !== undefined ? String(value) : '', keep };
  });
}

/** A default typed as text, as the field's type: a number, true/false, or the text; undefined when empty or not one. */
function typedDefault(row: OutputField): unknown {
  const text = row.default.trim();
  if (text === '' || row.type === 'kept' || row.type.startsWith('list')) return undefined;
  if (row.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : undefined;
  if (row.type === 'number' || row.type === 'integer') return Number.isFinite(Number(text)) ? Number(text) : undefined;
  return row.default;
}

/**
 * The JSON Schema the rows stand for (undefined when there are none and nothing else was written: the task answers
 * in text, the sub-flow takes anything). `base`: the schema edited, whose other top-level keywords are kept.
 */
export function outputSchemaOf(rows: readonly OutputField[], base?: unknown): JsonSchema | undefined {
  const kept = base && typeof base === 'object' ? Object.fromEntries(Object.entries(base as JsonSchema).filter(([k]) => !TOP_KEYS.includes(k))) : {};
  if (!rows.length && !Object.keys(kept).length) return undefined;
  const properties: Record<string, JsonSchema> = {};
  for (const row of rows.filter((r) => r.name.trim() !== '')) {
    const typed: JsonSchema =
      row.type === 'kept' ? {} : row.type === 'list of text' ? { type: 'array', items: { type: 'string' } } : row.type === 'list of numbers' ? { type: 'array', items: { type: 'number' } } : { type: row.type };
    const value = typedDefault(row);
    properties[row.name.trim()] = { ...row.keep, ...typed, ...(row.description ? { description: row.description } : {}), ...(value !== undefined ? { default: value } : {}) };
  }
  const required = rows.filter((r) => r.name.trim() !== '' && r.required).map((r) => r.name.trim());
  return { ...kept, type: 'object', properties, ...(required.length ? { required } : {}) };
}

/** A copy of an object schema without some properties (what the cards show themselves is not repeated below them). */
export function withoutProperties(schema: JsonSchema | undefined, keys: readonly string[]): JsonSchema {
  const properties = { ...((schema?.properties ?? {}) as Record<string, JsonSchema>) };
  for (const key of keys) delete properties[key];
  const required = Array.isArray(schema?.required) ? (schema!.required as string[]).filter((k) => !keys.includes(k)) : undefined;
  return { ...schema, type: 'object', properties, ...(required ? { required } : {}) };
}

/** Problems under `base` (e.g. "/agents/0"), with pointers made relative to it; `exclude` drops the card's own fields. */
export function issuesUnder(issues: ReadonlyArray<{ pointer: string; message: string }>, base: string): Array<{ pointer: string; message: string }> {
  return issues.filter((i) => i.pointer === base || i.pointer.startsWith(`${base}/`)).map((i) => ({ pointer: i.pointer.slice(base.length), message: i.message }));
}

/**
 * Whether a node type's props are a crew (agents with key and role, tasks with key and description): then its form
 * is the card form. Told by the schema's shape, not the type's name, so another pack's crew node gets it too.
 */
export function isCrewSchema(schema: JsonSchema | undefined): boolean {
  const items = (key: string) => ((schema?.properties as Record<string, JsonSchema> | undefined)?.[key]?.items ?? {}) as JsonSchema;
  const has = (s: JsonSchema, ...keys: string[]) => keys.every((k) => !!s.properties && k in (s.properties as object));
  return has(items('agents'), 'key', 'role') && has(items('tasks'), 'key', 'description');
}

/** A group of crew settings shown folded under its own heading (CrewForm): one object or list-valued setting. */
export interface CrewSettingsSection {
  key: string;
  label: string;
  /** What it holds, at a glance, for the folded heading. */
  summary: string;
  /** Unfolded to begin with: it has problems, or it is the CrewAI source still to be pasted. */
  open: boolean;
}

/** Nothing set: no value, or only empty ones (a switch left off counts as not set). */
const isEmptySetting = (value: unknown): boolean =>
  value === undefined || value === null || value === '' || value === false || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && !Array.isArray(value) && Object.values(value as object).every(isEmptySetting));

/**
 * The crew settings besides agents and tasks, split so the panel stays short (issue 12: "the CrewAI YAML and manager
 * sections make one very long panel"): plain fields stay in the form (`inline`); every object or list setting (CrewAI
 * YAML, manager, human input, budgets, memory, knowledge, MCP servers...) becomes a folded section. A section the
 * chosen mode does not use is left out — CrewAI YAML unless the source is crewai, the manager unless the process is
 * hierarchical — unless it holds a value or a problem (nothing set is ever hidden).
 */
export function crewSettingsSections(
  schema: JsonSchema,
  value: Record<string, unknown>,
  issues: ReadonlyArray<{ pointer: string }>,
): { inline: string[]; sections: CrewSettingsSection[] } {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const inline: string[] = [];
  const sections: CrewSettingsSection[] = [];
  const usedByMode: Record<string, () => boolean> = { crewai: () => value.source === 'crewai', manager: () => value.process === 'hierarchical' };
  for (const [key, sub] of Object.entries(properties)) {
    const types = Array.isArray(sub.type) ? sub.type : [sub.type];
    if (!types.includes('object') && !types.includes('array')) {
      inline.push(key);
      continue;
    }
    const problems = issues.filter((i) => i.pointer === `/${key}` || i.pointer.startsWith(`/${key}/`)).length;
    const empty = isEmptySetting(value[key]);
    if (usedByMode[key] && !usedByMode[key]!() && empty && problems === 0) continue;
    const summary = problems ? `${problems} problem${problems === 1 ? '' : 's'}` : sectionSummary(key, value[key], empty);
    sections.push({ key, label: fieldLabel(sub, key), summary, open: problems > 0 || (key === 'crewai' && empty) });
  }
  return { inline, sections };
}

function sectionSummary(key: string, value: unknown, empty: boolean): string {
  if (empty) return 'not set';
  if (key === 'crewai' && value && typeof value === 'object') {
    const lines = (text: unknown) => (typeof text === 'string' && text.trim() ? text.trim().split('\n').length : 0);
    const yaml = value as Record<string, unknown>;
    return `agents.yaml ${lines(yaml.agentsYaml)} lines, tasks.yaml ${lines(yaml.tasksYaml)} lines`;
  }
  if (Array.isArray(value)) return `${value.length} item${value.length === 1 ? '' : 's'}`;
  const set = Object.entries(value as object).filter(([, v]) => !isEmptySetting(v)).map(([k]) => humanise(k).toLowerCase());
  return `${set.slice(0, 3).join(', ')}${set.length > 3 ? ` and ${set.length - 3} more` : ''}`;
}

/** The schema with only `keys` of its properties (a section's own form). */
export function onlyProperties(schema: JsonSchema | undefined, keys: readonly string[]): JsonSchema {
  const all = (schema?.properties ?? {}) as Record<string, JsonSchema>;
  const required = Array.isArray(schema?.required) ? (schema!.required as string[]).filter((k) => keys.includes(k)) : undefined;
  return { type: 'object', properties: Object.fromEntries(keys.filter((k) => k in all).map((k) => [k, all[k]!])), ...(required?.length ? { required } : {}) };
}
