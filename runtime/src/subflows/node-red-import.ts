/**
 * The sub-flow library's part of a Node-RED import: the export's subflow definitions (translated by
 * flow/node-red-subflows.ts) are published before the flows that use them are validated, so their `subflow:<id>`
 * instances find their node type and pin its latest version. A definition identical to the latest stored version is
 * not published again (importing the same export twice changes nothing); a changed one becomes the next version.
 * Subflows using other subflows are published after them, with their instances pinned to those versions.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Actor } from '../identity/actor.ts';
import type { ImportResult } from '../flow/types.ts';
import { importNodeRed, isNodeRedExport, type ImportedSubflow } from '../flow/node-red.ts';
import type { Runtime } from '../runtime.ts';
import type { AuditService } from '../services/audit.ts';
import type { ProjectService } from '../services/projects.ts';
import { nodeTypeOf, subflowIdOfType } from './definition.ts';
import { SubflowService } from './service.ts';

/** What the import did with each subflow of the export. */
export interface ImportedSubflowNote {
  /** The subflow's id in the Node-RED export. */
  nodeRedId: string;
  /** Its library id; the instances are nodes of type `subflow:<id>`. */
  id: string;
  type: string;
  name: string;
  version: number;
  /** published: a new version; unchanged: the latest stored version is the same definition. */
  status: 'published' | 'unchanged';
}

const canonical = (value: unknown): unknown => JSON.parse(JSON.stringify(value));

/** Dependencies first: a subflow whose nodes use another subflow of the export comes after it. */
function inOrder(subflows: ImportedSubflow[]): ImportedSubflow[] {
  const byId = new Map(subflows.map((s) => [s.definition.id, s]));
  const ordered: ImportedSubflow[] = [];
  const visiting = new Set<string>();
  const visit = (s: ImportedSubflow) => {
    if (ordered.includes(s) || visiting.has(s.definition.id)) return;
    visiting.add(s.definition.id);
    for (const node of s.definition.nodes) {
      const used = byId.get(subflowIdOfType(node.type) ?? '');
      if (used) visit(used);
    }
    ordered.push(s);
  };
  subflows.forEach(visit);
  return ordered;
}

/**
 * Publish the subflows of a Node-RED export into the library (as `actor`, in `projectId`). Returns nothing for other
 * inputs, or when there is no library (memory storage): the instances are then reported as unknown node types. An
 * export of subflows only (Node-RED's "export subflow", common in its flow library) is complete once they are
 * published: `alone` is then the import's whole answer.
 */
export async function importNodeRedSubflows(
  parts: { runtime: Runtime; projects: ProjectService; audit: AuditService },
  actor: Actor,
  input: unknown,
  projectId: string,
): Promise<{ subflows: ImportedSubflowNote[]; alone?: ImportResult }> {
  if (!isNodeRedExport(input) || !parts.runtime.subflows) return { subflows: [] };
  const imported = importNodeRed(input);
  const { subflows } = imported;
  if (subflows.length === 0) return { subflows: [] };
  const library = parts.runtime.subflows;
  const service = new SubflowService(parts.runtime, parts.projects, parts.audit);
  const notes: ImportedSubflowNote[] = [];
  const versions = new Map<string, number>();
  for (const { nodeRedId, definition } of inOrder(subflows)) {
    // Instances of other subflows inside this one pin the version just published or found.
    for (const node of definition.nodes) {
      const used = subflowIdOfType(node.type);
      if (used && versions.has(used)) node.props = { ...node.props, version: versions.get(used) };
    }
    const latest = library.versions(definition.id)?.at(-1);
    const same = latest && isDeepStrictEqual(canonical({ ...latest.definition, version: undefined }), canonical(definition));
    const version = same ? latest.definition.version : (await service.publish(actor, definition, projectId)).definition.version;
    versions.set(definition.id, version);
    notes.push({ nodeRedId, id: definition.id, type: nodeTypeOf(definition.id), name: definition.name, version, status: same ? 'unchanged' : 'published' });
  }
  if (imported.flows.length > 0) return { subflows: notes };
  return { subflows: notes, alone: { source: 'node-red', flows: [], unmapped: imported.unmapped, warnings: imported.warnings, properties: imported.properties, subflows: notes } };
}
