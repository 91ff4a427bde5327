/**
 * Node-RED `group` nodes onto the flow document's editor groups: name, colour (its fill, else its border), direct
 * members (a node is in one group) and nesting (`parent`: the enclosing group, Node-RED's `g`). Members that are not
 * imported (links, junctions, unmapped nodes) leave the group; a group on a subflow or without a tab is not kept.
 * Each group's translation is reported like a node's properties.
 */
import type { PropertyNote } from './node-red-values.ts';
import type { FlowGroup } from './types.ts';

interface NrGroup {
  id: string;
  type: string;
  z?: unknown;
  g?: unknown;
  name?: unknown;
  style?: unknown;
  nodes?: unknown;
}

const HEX6 = /^#[0-9a-fA-F]{6}$/;
const HEX3 = /^#([0-9a-fA-F])([0-9a-fA-F])([0-9a-fA-F])$/;

/** '#rrggbb' from a Node-RED style colour ('#abc', '#aabbcc'); undefined for 'none', names and the rest. */
function hexColour(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (HEX6.test(value)) return value.toLowerCase();
  const short = HEX3.exec(value);
  return short ? `#${short[1]}${short[1]}${short[2]}${short[2]}${short[3]}${short[3]}`.toLowerCase() : undefined;
}

/** Every node id inside group `groupId`, nested groups included (Node-RED's "group" scope reaches into them). */
export function groupDescendants(items: ReadonlyArray<{ id: string; type: string; g?: unknown }>, groupId: string): string[] {
  const found: string[] = [];
  const visit = (id: string, seen: Set<string>) => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const n of items) {
      if (n.g !== id) continue;
      if (n.type === 'group') visit(n.id, seen);
      else found.push(n.id);
    }
  };
  visit(groupId, new Set());
  return found;
}

/**
 * The groups of each imported flow. `flowOf` gives the Flowcrew flow of a tab id (undefined: not a flow tab),
 * `mapped` the Flowcrew id of each imported node, `groupId` a group's Flowcrew id.
 */
export function importGroups(
  items: ReadonlyArray<Record<string, unknown> & { id: string; type: string }>,
  flowOf: (z: string) => string | undefined,
  mapped: ReadonlyMap<string, string>,
  groupId: (nodeRedId: string) => string,
  report: (note: PropertyNote) => void,
): Map<string, FlowGroup[]> {
  const byFlow = new Map<string, FlowGroup[]>();
  const groups = items.filter((n) => n.type === 'group') as NrGroup[];
  const kept = new Set(groups.filter((g) => typeof g.z === 'string' && flowOf(g.z) !== undefined).map((g) => g.id));
  for (const g of groups) {
    const flowId = typeof g.z === 'string' ? flowOf(g.z) : undefined;
    const note = (property: string, action: PropertyNote['action'], reason: string, extra: Partial<PropertyNote> = {}) =>
      report({ nodeId: g.id, type: 'group', ...(flowId ? { flowId } : {}), property, action, reason, ...extra });
    if (!flowId) continue; // on a subflow or without a tab: reported by the importer with the nodes it held
    const style = (g.style && typeof g.style === 'object' ? g.style : {}) as Record<string, unknown>;
    const color = hexColour(style.fill) ?? hexColour(style.stroke);
    const members = (Array.isArray(g.nodes) ? g.nodes : []).filter((m): m is string => typeof m === 'string');
    const nodes = members.filter((m) => mapped.has(m)).map((m) => mapped.get(m)!);
    const left = members.filter((m) => !mapped.has(m) && !kept.has(m));
    const group: FlowGroup = { id: groupId(g.id), name: typeof g.name === 'string' ? g.name.slice(0, 200) : '', nodes };
    if (color) group.color = color;
    if (typeof g.g === 'string' && kept.has(g.g)) group.parent = groupId(g.g);
    byFlow.set(flowId, [...(byFlow.get(flowId) ?? []), group]);
    if (color) note('/style', 'translated', `colour from its ${hexColour(style.fill) ? 'fill' : 'border'}`, { from: g.style, to: color });
    else if (g.style !== undefined) note('/style', 'dropped', 'no fill or border colour (Flowcrew draws it in the default colour)', { from: g.style });
    const extras = Object.keys(style).filter((k) => !['fill', 'stroke'].includes(k));
    if (extras.length > 0) note('/style', 'ignored', `label position, opacity and label colour (${extras.join(', ')}) are not kept`);
    if (left.length > 0) note('/nodes', 'dropped', `members not imported (links, junctions or unmapped nodes) left the group: ${left.join(', ')}`, { from: left });
    if (group.parent) note('/g', 'translated', 'nested in another group: its parent', { from: g.g, to: group.parent });
  }
  return byFlow;
}
