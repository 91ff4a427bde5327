/**
 * Groups (Node-RED's habit): named, coloured sets of nodes kept in the flow document (`doc.groups`), drawn as a
 * box around their nodes and moved together. A node belongs to at most one group.
 */
import type { FlowDocument, FlowGroup } from '../api/types';

/** The colours offered (Node-RED's group palette, darkened for the dark canvas). */
export const GROUP_COLOURS = ['#3b82f6', '#22c55e', '#f59e0b', '#ef4444', '#a855f7', '#6b7280'] as const;

export function groupOf(doc: FlowDocument, nodeId: string): FlowGroup | undefined {
  return doc.groups?.find((g) => g.nodes.includes(nodeId));
}

/** Put `nodeIds` in a new group (taking them out of any other); returns its id. */
export function createGroup(doc: FlowDocument, nodeIds: readonly string[], name: string): string {
  const taken = new Set((doc.groups ?? []).map((g) => g.id));
  let n = (doc.groups?.length ?? 0) + 1;
  while (taken.has(`group-${n}`)) n++;
  const id = `group-${n}`;
  const members = new Set(nodeIds);
  const others = (doc.groups ?? []).map((g) => ({ ...g, nodes: g.nodes.filter((m) => !members.has(m)) })).filter((g) => g.nodes.length > 0);
  const color = GROUP_COLOURS[(n - 1) % GROUP_COLOURS.length]!;
  doc.groups = [...others, { id, name: name.trim() || `Group ${n}`, color, nodes: [...members] }];
  return id;
}

export function removeGroup(doc: FlowDocument, groupId: string): void {
  doc.groups = (doc.groups ?? []).filter((g) => g.id !== groupId);
  if (doc.groups.length === 0) delete doc.groups;
}

/** After nodes are deleted: they leave their groups; a group left empty goes too. */
export function dropFromGroups(doc: FlowDocument, gone: ReadonlySet<string>): void {
  if (!doc.groups) return;
  doc.groups = doc.groups.map((g) => ({ ...g, nodes: g.nodes.filter((m) => !gone.has(m)) })).filter((g) => g.nodes.length > 0);
  if (doc.groups.length === 0) delete doc.groups;
}
