/**
 * Groups (Node-RED's habit): named, coloured sets of nodes kept in the flow document (`doc.groups`), drawn as a
 * box around their nodes and moved together. A node belongs to at most one group; a group may be nested in another
 * (`parent`, as Node-RED's), and one that holds only nested groups is kept while it holds any.
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
  const others = keepHolding((doc.groups ?? []).map((g) => ({ ...g, nodes: g.nodes.filter((m) => !members.has(m)) })));
  const color = GROUP_COLOURS[(n - 1) % GROUP_COLOURS.length]!;
  doc.groups = [...others, { id, name: name.trim() || `Group ${n}`, color, nodes: [...members] }];
  return id;
}

/** Ungroup: the group goes, its nested groups move up to its parent (or to the top). */
export function removeGroup(doc: FlowDocument, groupId: string): void {
  const parent = doc.groups?.find((g) => g.id === groupId)?.parent;
  doc.groups = (doc.groups ?? []).filter((g) => g.id !== groupId).map((g) => (g.parent === groupId ? withParent(g, parent) : g));
  if (doc.groups.length === 0) delete doc.groups;
}

/** After nodes are deleted: they leave their groups; a group left empty goes too. */
export function dropFromGroups(doc: FlowDocument, gone: ReadonlySet<string>): void {
  if (!doc.groups) return;
  doc.groups = keepHolding(doc.groups.map((g) => ({ ...g, nodes: g.nodes.filter((m) => !gone.has(m)) })));
  if (doc.groups.length === 0) delete doc.groups;
}

/** The groups that still hold a node, directly or through a nested group; links to a dropped parent are removed. */
function keepHolding(groups: FlowGroup[]): FlowGroup[] {
  const holding = new Set(groups.filter((g) => g.nodes.length > 0).map((g) => g.id));
  const byId = new Map(groups.map((g) => [g.id, g]));
  for (const id of [...holding]) {
    const seen = new Set<string>();
    for (let parent = byId.get(id)?.parent; parent && !seen.has(parent); parent = byId.get(parent)?.parent) {
      seen.add(parent);
      holding.add(parent);
    }
  }
  return groups.filter((g) => holding.has(g.id)).map((g) => (g.parent && !holding.has(g.parent) ? withParent(g, undefined) : g));
}

function withParent(group: FlowGroup, parent: string | undefined): FlowGroup {
  const { parent: _old, ...rest } = group;
  return parent ? { ...rest, parent } : rest;
}
