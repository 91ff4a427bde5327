/**
 * Reading a CrewAI config file (agents.yaml, tasks.yaml) the way CrewAI's loader (PyYAML safe_load) does: YAML 1.1
 * scalars (yes/no are booleans), merge keys (`<<: *base`) applied, anchors and aliases resolved, a repeated key
 * won by its last occurrence. On top of what the loader gives CrewAI, each entry and field keeps its line, so
 * every problem and note can say where it is.
 *
 * Top-level entries that only hold shared fields (`_defaults: &base`) are not agents or tasks: CrewAI never
 * instantiates them (crew.py names the agents and tasks it builds); without a crew.py we tell them apart by a
 * leading `_` or `.`, or by an anchor that other entries merge while the entry itself is incomplete.
 */
import { isAlias, isMap, isScalar, LineCounter, parseDocument, visit, type Pair, type YAMLMap } from 'yaml';

export class CrewAIImportError extends Error {
  constructor(
    message: string,
    /** Which file the problem is in, for a pointer to it. */
    readonly file?: 'agents.yaml' | 'tasks.yaml',
  ) {
    super(message);
    this.name = 'CrewAIImportError';
  }
}

export type ConfigFile = 'agents.yaml' | 'tasks.yaml';

export interface YamlEntry {
  key: string;
  /** The entry's fields with merge keys applied. */
  fields: Record<string, unknown>;
  line: number;
  /** Line of each field written in the entry itself (merged-in fields have the line of their `<<`). */
  fieldLines: Record<string, number>;
}

export interface LoadedConfig {
  entries: YamlEntry[];
  /** Entries that hold shared fields for others, with why they were taken for one. */
  holders: Array<{ key: string; line: number; reason: string }>;
  /** Things the loader did that the user may not expect (a repeated key). */
  notes: Array<{ line: number; message: string }>;
}

/** Aliases expanded at most this many times: a small file cannot grow into a huge document ("billion laughs"). */
const MAX_ALIAS_COUNT = 200;
/** Largest config file read (CrewAI files are a few kilobytes). */
const MAX_CHARS = 512 * 1024;

export function loadCrewAIConfig(text: string, file: ConfigFile, complete: (fields: Record<string, unknown>) => boolean): LoadedConfig {
  if (text.length > MAX_CHARS) throw new CrewAIImportError(`${file} is ${text.length} characters long; at most ${MAX_CHARS} are read`, file);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { version: '1.1', merge: true, uniqueKeys: false, prettyErrors: true, lineCounter });
  if (doc.errors.length > 0) throw new CrewAIImportError(`${file} is not valid YAML: ${doc.errors[0]!.message}`, file);
  const lineOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] } | null)?.range;
    return range ? lineCounter.linePos(range[0]).line : 0;
  };
  if (doc.contents === null) return { entries: [], holders: [], notes: [] };
  if (!isMap(doc.contents)) throw new CrewAIImportError(`${file} must be a mapping of names to definitions (line ${lineOf(doc.contents)})`, file);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new CrewAIImportError(`${file} cannot be read: ${(error as Error).message}`, file);
  }
  const all = value as Record<string, unknown>;

  const aliased = new Set<string>();
  visit(doc, {
    Alias(_, node) {
      aliased.add(node.source);
    },
  });

  const entries: YamlEntry[] = [];
  const holders: LoadedConfig['holders'] = [];
  const notes: LoadedConfig['notes'] = [];
  const seen = new Map<string, number>();
  for (const pair of (doc.contents as YAMLMap).items as Pair[]) {
    const key = keyName(pair.key);
    const line = lineOf(pair.key);
    if (key === '<<') continue; // a merge at the top level only adds entries, which are listed on their own
    if (seen.has(key)) notes.push({ line, message: `"${key}" is defined twice (lines ${seen.get(key)} and ${line}): the later one is used, as CrewAI's loader does` });
    seen.set(key, line);
  }
  for (const pair of (doc.contents as YAMLMap).items as Pair[]) {
    const key = keyName(pair.key);
    const line = lineOf(pair.key);
    if (key === '<<' || seen.get(key) !== line) continue;
    const fields = all[key];
    const node = isAlias(pair.value) ? pair.value.resolve(doc) : pair.value;
    if (!fields || typeof fields !== 'object' || Array.isArray(fields)) {
      if (fields === null || fields === undefined) {
        holders.push({ key, line, reason: 'it is empty' });
        continue;
      }
      throw new CrewAIImportError(`${file} line ${line}: "${key}" must be a mapping of fields (role, goal, ... or description, expected_output, ...)`, file);
    }
    const anchor = (pair.value as { anchor?: string } | null)?.anchor;
    const record = fields as Record<string, unknown>;
    if (/^[_.]/.test(key)) {
      holders.push({ key, line, reason: `its name starts with "${key[0]}"` });
      continue;
    }
    if (anchor && aliased.has(anchor) && !complete(record)) {
      holders.push({ key, line, reason: `it defines the anchor &${anchor} that other entries use, and is not complete on its own` });
      continue;
    }
    const fieldLines: Record<string, number> = {};
    if (isMap(node)) {
      const written = new Map<string, number[]>();
      let mergeLine: number | undefined;
      for (const field of node.items as Pair[]) {
        const name = keyName(field.key);
        if (name === '<<') mergeLine ??= lineOf(field.key);
        else written.set(name, [...(written.get(name) ?? []), lineOf(field.key)]);
      }
      for (const [name, lines] of written) {
        fieldLines[name] = lines.at(-1)!;
        if (lines.length > 1) notes.push({ line: lines.at(-1)!, message: `${key}.${name} is given twice (lines ${lines.join(', ')}): the last value is used, as CrewAI's loader does` });
      }
      for (const name of Object.keys(record)) fieldLines[name] ??= mergeLine ?? line;
    }
    entries.push({ key, fields: record, line, fieldLines });
  }
  return { entries, holders, notes };
}

/** A mapping key as the loaded object names it; a merge key (a symbol in the yaml library) is "<<". */
function keyName(node: unknown): string {
  if (!isScalar(node)) return String(node);
  return typeof node.value === 'symbol' ? '<<' : String(node.value);
}
