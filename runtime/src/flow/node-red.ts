/**
 * Node-RED import: turns a Node-RED export (the editor's JSON export, or the admin API's `{ flows }`) into
 * Flowcrew flow documents, one per tab. Node types with a Flowcrew equivalent keep their id and config (our nodes
 * use Node-RED's field names); link and junction nodes disappear, their wires connected straight through; everything
 * else is reported in `unmapped` with the reason, never dropped silently.
 */
import { FLOW_FORMAT, type FlowDocument, type FlowNode } from './types.ts';

export interface UnmappedNode {
  id: string;
  type: string;
  name?: string;
  /** The Flowcrew flow the node would have belonged to. */
  flowId?: string;
  reason: string;
}

export interface NodeRedImport {
  flows: FlowDocument[];
  unmapped: UnmappedNode[];
  warnings: string[];
}

/** A Node-RED node (or tab, group, config node) as found in an export. */
interface NrNode {
  id: string;
  type: string;
  z?: string;
  name?: unknown;
  x?: unknown;
  y?: unknown;
  wires?: unknown;
  [key: string]: unknown;
}

/** Node-RED type → Flowcrew type. */
const TYPE_MAP: Record<string, string> = {
  inject: 'inject',
  debug: 'debug',
  function: 'function',
  change: 'change',
  switch: 'switch',
  template: 'template',
  json: 'json',
  csv: 'csv',
  yaml: 'yaml',
  split: 'split',
  join: 'join',
  delay: 'delay',
  'http in': 'webhook',
  'http response': 'webhook-response',
  'http request': 'http-request',
  catch: 'catch',
  comment: 'comment',
};

/** Editor-only fields: layout, labels, grouping, notes. Everything else is the node's config and becomes props. */
const NON_CONFIG_KEYS = new Set(['id', 'type', 'z', 'x', 'y', 'w', 'h', 'wires', 'name', 'g', 'd', 'l', 'info', 'icon', 'inputLabels', 'outputLabels', '_users']);

const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;
const MAX_ID = 128;
const MAX_NAME = 200;

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

function exportedNodes(json: unknown): unknown[] | undefined {
  if (Array.isArray(json)) return json;
  if (isObject(json) && Array.isArray(json.flows)) return json.flows;
  return undefined;
}

/**
 * A Node-RED export is a non-empty array of objects that all have a string `id` and `type`, with at least one tab
 * or one node on a tab (`z`); or the admin API's `{ flows: [...] }` wrapping such an array.
 */
export function isNodeRedExport(json: unknown): boolean {
  const items = exportedNodes(json);
  if (!items || items.length === 0) return false;
  if (!items.every((n) => isObject(n) && typeof n.id === 'string' && typeof n.type === 'string')) return false;
  return items.some((n) => (n as NrNode).type === 'tab' || typeof (n as NrNode).z === 'string');
}

function sanitiseId(id: string): string {
  const clean = id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, MAX_ID);
  return clean.length > 0 ? clean : 'node';
}

function nameOf(n: NrNode): string | undefined {
  return typeof n.name === 'string' && n.name.trim() !== '' ? n.name.slice(0, MAX_NAME) : undefined;
}

function describe(n: NrNode): string {
  const name = nameOf(n);
  return name ? `${n.type} "${name}" (${n.id})` : `${n.type} ${n.id}`;
}

const linkMode = (n: NrNode) => (typeof n.mode === 'string' ? n.mode : 'link');
const outputWires = (n: NrNode): string[][] =>
  Array.isArray(n.wires) ? n.wires.map((port) => (Array.isArray(port) ? port.filter((t): t is string => typeof t === 'string') : [])) : [];

/** Per-type config adjustments where Flowcrew's node differs from Node-RED's. */
function adaptProps(n: NrNode, props: Record<string, unknown>): Record<string, unknown> {
  if (n.type === 'http in') {
    // The runtime serves webhooks under /webhook; the path itself stays. Methods are upper case here.
    if (typeof props.method === 'string') props.method = props.method.toUpperCase();
    delete props.swaggerDoc; // a reference to Node-RED's swagger plugin config
  }
  return props;
}

class Importer {
  private readonly byId = new Map<string, NrNode>();
  private readonly unmapped: UnmappedNode[] = [];
  private readonly warnings: string[] = [];
  private readonly warned = new Set<string>();
  /** Node-RED id → Flowcrew id of every node that is imported. */
  private readonly mapped = new Map<string, string>();
  /** Tab (or orphan z) id → Flowcrew flow id. */
  private readonly flowIds = new Map<string, string>();

  constructor(private readonly items: NrNode[]) {
    for (const n of items) this.byId.set(n.id, n);
  }

  run(): NodeRedImport {
    const tabs = this.items.filter((n) => n.type === 'tab');
    const subflows = new Map(this.items.filter((n) => n.type === 'subflow').map((n) => [n.id, n]));
    const configIds = new Set<string>();

    // Flows: every tab, plus one per unknown z (an export of selected nodes does not include their tab).
    const usedFlowIds = new Set<string>();
    const flowFor = (z: string) => {
      let id = sanitiseId(z);
      for (let i = 2; usedFlowIds.has(id); i++) id = `${sanitiseId(z).slice(0, MAX_ID - 4)}-${i}`;
      usedFlowIds.add(id);
      this.flowIds.set(z, id);
    };
    for (const tab of tabs) flowFor(tab.id);
    const orphanTabs: string[] = [];
    for (const n of this.items) {
      if (typeof n.z === 'string' && !this.flowIds.has(n.z) && !subflows.has(n.z) && this.isFlowNode(n)) {
        flowFor(n.z);
        orphanTabs.push(n.z);
      }
    }

    // Classify every node: imported, removed and rewired (links, junctions), or unmapped.
    for (const n of this.items) {
      if (n.type === 'tab') continue;
      const flowId = typeof n.z === 'string' ? this.flowIds.get(n.z) : undefined;
      const skip = (reason: string) => this.unmapped.push({ id: n.id, type: n.type, ...(nameOf(n) ? { name: nameOf(n) } : {}), ...(flowId ? { flowId } : {}), reason });
      if (n.type === 'subflow') skip('subflow definitions are not supported; rebuild the subflow as a separate flow and call it with a subflow-call node');
      else if (typeof n.z === 'string' && subflows.has(n.z)) skip(`belongs to subflow "${String(subflows.get(n.z)!.name ?? n.z)}", which is not imported`);
      else if (n.type === 'group') skip('groups are not supported; the nodes of the group were imported without it');
      else if (!this.isFlowNode(n)) {
        configIds.add(n.id);
        skip(`configuration node (${n.type}): Flowcrew keeps connection settings in node props and credentials; set them up on the nodes that used it`);
      } else if (n.type === 'junction') skip('junction: removed, the wires through it now connect its sources to its targets directly');
      else if (n.type === 'link in') continue;
      else if (n.type === 'link out') {
        if (linkMode(n) !== 'link') skip('a "link out" in return mode answers a "link call", which is not supported');
        else this.checkLinkTargets(n, skip);
      } else if (n.type === 'link call') skip('"link call" is not supported; use a subflow-call node to call another flow');
      else if (n.type.startsWith('subflow:')) skip(`instance of subflow ${n.type.substring(8)}: subflows are not supported`);
      else if (TYPE_MAP[n.type] === undefined) skip(`Node-RED node type "${n.type}" has no Flowcrew equivalent`);
      else if (flowId === undefined) skip('not on a flow tab');
      else this.mapped.set(n.id, ID_PATTERN.test(n.id) && n.id.length <= MAX_ID ? n.id : sanitiseId(n.id));
    }

    const flows: FlowDocument[] = [];
    const build = (z: string, tab?: NrNode) => {
      const id = this.flowIds.get(z)!;
      const label = tab && typeof tab.label === 'string' && tab.label.trim() ? tab.label : tab ? `Flow ${z}` : `Imported flow ${z}`;
      const doc: FlowDocument = { format: FLOW_FORMAT, id, name: label.slice(0, MAX_NAME), version: 1, settings: {}, nodes: [] };
      if (tab && typeof tab.info === 'string' && tab.info.trim()) doc.description = tab.info.slice(0, 10_000);
      if (tab?.disabled === true) this.warn(`flow "${doc.name}" is disabled in Node-RED; it is imported (not deployed) and will run once deployed`);
      if (tab && Array.isArray(tab.env) && tab.env.length > 0) this.warn(`flow "${doc.name}" defines environment variables, which were not imported (flows get no environment)`);
      doc.nodes = this.items.filter((n) => n.z === z && this.mapped.has(n.id)).map((n) => this.toFlowNode(n, configIds));
      flows.push(doc);
    };
    for (const tab of tabs) build(tab.id, tab);
    for (const z of orphanTabs) {
      this.warn(`the export does not include tab ${z}; its nodes were imported into a new flow "Imported flow ${z}"`);
      build(z);
    }
    return { flows, unmapped: this.unmapped, warnings: this.warnings };
  }

  /** Nodes placed on a canvas have a z and a position or wires; configuration nodes have neither. */
  private isFlowNode(n: NrNode): boolean {
    return typeof n.z === 'string' && (typeof n.x === 'number' || Array.isArray(n.wires));
  }

  /** Links to a "link in" on another tab cannot be followed: report the link out once. */
  private checkLinkTargets(n: NrNode, skip: (reason: string) => void): void {
    const links = Array.isArray(n.links) ? n.links.filter((l): l is string => typeof l === 'string') : [];
    const elsewhere = links.map((l) => this.byId.get(l)).filter((target): target is NrNode => target !== undefined && target.z !== n.z);
    if (elsewhere.length > 0) {
      const where = elsewhere.map((t) => `${describe(t)} on ${this.tabName(t.z)}`).join(', ');
      skip(`links to ${where}: links across flows are not supported (links within the flow were connected directly)`);
    }
  }

  private tabName(z: string | undefined): string {
    const tab = z ? this.byId.get(z) : undefined;
    return tab && typeof tab.label === 'string' ? `flow "${tab.label}"` : `flow ${z ?? '(none)'}`;
  }

  private warn(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.warnings.push(message);
  }

  private toFlowNode(n: NrNode, configIds: Set<string>): FlowNode {
    const props: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(n)) {
      if (!NON_CONFIG_KEYS.has(key) || (key === 'info' && n.type === 'comment')) props[key] = value;
      if (typeof value === 'string' && configIds.has(value) && !NON_CONFIG_KEYS.has(key)) {
        this.warn(`${describe(n)} refers to configuration node ${describe(this.byId.get(value)!)} in "${key}", which was not imported`);
      }
    }
    const node: FlowNode = { id: this.mapped.get(n.id)!, type: TYPE_MAP[n.type]! };
    const name = nameOf(n);
    if (name) node.name = name;
    if (typeof n.x === 'number' && typeof n.y === 'number') node.position = { x: n.x, y: n.y };
    node.props = adaptProps(n, props);
    const wires = outputWires(n).map((port) => {
      const targets: string[] = [];
      for (const target of port) for (const id of this.resolve(target, n, new Set())) if (!targets.includes(id)) targets.push(id);
      return targets;
    });
    if (wires.length > 0) node.wires = wires;
    if (n.d === true) node.disabled = true;
    return node;
  }

  /** Where a wire from `source` to `targetId` ends up once links and junctions are removed. */
  private resolve(targetId: string, source: NrNode, seen: Set<string>): string[] {
    if (seen.has(targetId)) return [];
    seen.add(targetId);
    const mappedId = this.mapped.get(targetId);
    if (mappedId) return [mappedId];
    const target = this.byId.get(targetId);
    if (!target) {
      this.warn(`${describe(source)} was wired to ${targetId}, which is not in the export; the wire was removed`);
      return [];
    }
    const through = (ids: string[]) => ids.flatMap((id) => this.resolve(id, source, seen));
    if (target.type === 'junction' || target.type === 'link in') return through(outputWires(target)[0] ?? []);
    if (target.type === 'link out' && linkMode(target) === 'link') {
      const links = Array.isArray(target.links) ? target.links.filter((l): l is string => typeof l === 'string') : [];
      const sameTab = links.filter((l) => this.byId.get(l)?.z === target.z);
      if (links.some((l) => this.byId.get(l) === undefined)) {
        this.warn(`${describe(target)} links to a "link in" that is not in the export; that link was removed`);
      }
      if (links.some((l) => this.byId.has(l) && this.byId.get(l)!.z !== target.z)) {
        this.warn(`${describe(source)} sends to ${describe(target)}, which links to another flow; that part of the wire was removed`);
      }
      return through(sameTab);
    }
    this.warn(`${describe(source)} was wired to ${describe(target)}, which was not imported; the wire was removed`);
    return [];
  }
}

/** Convert a Node-RED export. Throws if `json` is not one (see isNodeRedExport). */
export function importNodeRed(json: unknown): NodeRedImport {
  if (!isNodeRedExport(json)) throw new Error('not a Node-RED export: expected an array of nodes with "id", "type" and "z" (or { flows: [...] })');
  return new Importer(exportedNodes(json) as NrNode[]).run();
}
