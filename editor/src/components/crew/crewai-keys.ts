/**
 * The agent and task keys a CrewAI agents.yaml / tasks.yaml holds, in order, for the crew form's pickers (a task's
 * agent, its context) and to list imported tasks that have no card yet. Read with the `yaml` library (merge keys
 * on, as CrewAI's loader), loaded on first use; entries named `_...` only hold shared fields, as the crew node reads
 * them. The runtime's own import stays the judge: this only offers choices, and text that does not parse offers none.
 */
export async function crewaiKeys(text: unknown): Promise<string[]> {
  return (await crewaiEntries(text)).map((e) => e.key);
}

/** Each entry's key and its fields as written (a task's description and expected_output shown on its card). */
export async function crewaiEntries(text: unknown): Promise<Array<{ key: string; fields: Record<string, unknown> }>> {
  if (typeof text !== 'string' || text.trim() === '') return [];
  let doc: unknown;
  try {
    const { parse } = await import('yaml');
    doc = parse(text, { merge: true });
  } catch {
    // Text that does not parse (or the parser not loading) offers no choices; the runtime's validation still speaks.
    return [];
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) return [];
  return Object.entries(doc as Record<string, unknown>)
    .filter(([key, value]) => !key.startsWith('_') && value !== null && typeof value === 'object' && !Array.isArray(value))
    .map(([key, fields]) => ({ key, fields: fields as Record<string, unknown> }));
}

/**
 * What the crew node's CrewAI import does not apply, each with its file, line and reason ("agents.yaml line 4:
 * analyst.tools: ignored: ..."): the pack's own import (nodes/ai crewai-import.ts, browser-safe), loaded on first use,
 * so the form says what the runtime will say at validation and deploy. None while the YAML is broken: validation
 * names that problem.
 */
export async function crewaiNotes(agentsYaml: unknown, tasksYaml: unknown): Promise<string[]> {
  if (typeof agentsYaml !== 'string' || typeof tasksYaml !== 'string' || (agentsYaml.trim() === '' && tasksYaml.trim() === '')) return [];
  try {
    const { importCrewAI, formatNote } = await import('../../../../nodes/ai/src/crew/crewai-import.ts');
    return importCrewAI(agentsYaml, tasksYaml).notes.map(formatNote);
  } catch {
    return [];
  }
}
