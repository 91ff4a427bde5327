/**
 * Node-RED import: turns a Node-RED export (the editor's JSON export, or the admin API's `{ flows }`) into
 * Flowcrew flow documents, one per tab. Node types with a Flowcrew equivalent keep their id and config (our nodes
 * use Node-RED's field names), normalised as Node-RED itself normalises them (node-red-props.ts) with a note per
 * property changed; link and junction nodes disappear, their wires connected straight through, except the link-in
 * nodes a "link call" calls (entry points) and "link out" nodes in return mode (link-return, the answer); everything else is
 * reported in `unmapped` with the reason, never dropped silently. Nodes copied from a tab without the tab itself
 * become a new flow with a new id each time (a copy, as Node-RED imports them); nodes without a position are laid out.
 */
import { randomUUID } from 'node:crypto';
import { layoutUnplaced } from './node-red-layout.ts';
import { unsupportedFileVariant, watchAsNodeRed } from './node-red-files.ts';
import { groupDescendants, importGroups } from './node-red-groups.ts';
import { linkCallProps } from './node-red-links.ts';
import { tabEnv } from './node-red-env.ts';
import { inlineSubflows } from './node-red-inline.ts';
import { applyGroupEnv, GROUP_ENV } from './node-red-group-env.ts';
import { assembleDefinition, envEntries, envSchema, instanceProps, subflowLibraryId, unsupportedSubflow, useSubflowProps, type ImportedSubflow } from './node-red-subflows.ts';
import { normaliseNodeRedProps } from './node-red-props.ts';
import { PropsEditor, type PropertyNote } from './node-red-values.ts';
import { FLOW_FORMAT, type FlowDocument, type FlowNode, type FlowVariable } from './types.ts';
import { TYPE_MAP } from './node-red-types.ts';

export type { PropertyNote } from './node-red-values.ts';
export type { ImportedSubflow } from './node-red-subflows.ts';

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
  /** Property by property, what the import translated, defaulted, dropped or kept without applying. */
  properties: PropertyNote[];
  /** Subflow definitions translated for the sub-flow library; the flows' instances use them as `subflow:<id>`. */
  subflows: ImportedSubflow[];
}

export interface NodeRedImportOptions {
  /** Id of the new flow made for nodes whose tab is not in the export (default: a random UUID). */
  newFlowId?: () => string;
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
/** A link node's `links` (a link call may hold one id as a string). */
const linkIds = (n: NrNode): string[] => (typeof n.links === 'string' ? [n.links] : Array.isArray(n.links) ? n.links.filter((l): l is string => typeof l === 'string') : []);
const outputWires = (n: NrNode): string[][] =>
  Array.isArray(n.wires) ? n.wires.map((port) => (Array.isArray(port) ? port.filter((t): t is string => typeof t === 'string') : [])) : [];

class Importer {
  private readonly byId = new Map<string, NrNode>();
  private readonly unmapped: UnmappedNode[] = [];
  private readonly warnings: string[] = [];
  private readonly warned = new Set<string>();
  private readonly properties: PropertyNote[] = [];
  /** Node-RED id → Flowcrew id of every node that is imported. */
  private readonly mapped = new Map<string, string>();
  /** Node-RED id → Flowcrew type, where it is not TYPE_MAP's (link in as an entry, link out in return mode). */
  private readonly mappedType = new Map<string, string>();
  /** Tab (or orphan z) id → Flowcrew flow id. */
  private readonly flowIds = new Map<string, string>();
  /** Subflow definitions that can be imported, by Node-RED id. */
  private importable = new Map<string, NrNode>();
  private readonly subflowDefs: ImportedSubflow[] = [];

  constructor(
    private readonly items: NrNode[],
    private readonly options: NodeRedImportOptions,
  ) {
    for (const n of items) this.byId.set(n.id, n);
  }

  run(): NodeRedImport {
    const tabs = this.items.filter((n) => n.type === 'tab');
    const subflows = new Map(this.items.filter((n) => n.type === 'subflow').map((n) => [n.id, n]));
    this.importable = new Map([...subflows].filter(([, sf]) => unsupportedSubflow(sf) === undefined));
    for (const id of this.importable.keys()) this.flowIds.set(id, `subflow:${subflowLibraryId(id)}`);
    const configIds = new Set<string>();

    // Flows: every tab, plus one per unknown z (an export of selected nodes does not include their tab): that one is
    // a copy with a new id each time, so importing the same selection twice gives two flows, as Node-RED does.
    const usedFlowIds = new Set<string>();
    const flowFor = (z: string, id: string) => {
      let unique = id;
      for (let i = 2; usedFlowIds.has(unique); i++) unique = `${id.slice(0, MAX_ID - 4)}-${i}`;
      usedFlowIds.add(unique);
      this.flowIds.set(z, unique);
    };
    for (const tab of tabs) flowFor(tab.id, sanitiseId(tab.id));
    const orphanTabs: string[] = [];
    for (const n of this.items) {
      if (typeof n.z === 'string' && !this.flowIds.has(n.z) && !subflows.has(n.z) && this.isFlowNode(n)) {
        flowFor(n.z, sanitiseId(this.options.newFlowId?.() ?? randomUUID()));
        orphanTabs.push(n.z);
      }
    }

    // Link-in nodes a link call enters at become entry points (all of them when a call picks its target by name).
    const calls = this.items.filter((n) => n.type === 'link call' && this.isFlowNode(n));
    const dynamicCalls = calls.some((n) => n.linkType === 'dynamic');
    const called = new Set(calls.flatMap((n) => linkIds(n)));
    const isEntry = (n: NrNode) => n.type === 'link in' && (dynamicCalls || called.has(n.id));

    const globalEnv = this.globalVariables();

    // Classify every node: imported, removed and rewired (links, junctions), or unmapped.
    for (const n of this.items) {
      if (n.type === 'tab' || n.type === 'global-config') continue;
      const flowId = typeof n.z === 'string' ? this.flowIds.get(n.z) : undefined;
      const skip = (reason: string) => this.unmapped.push({ id: n.id, type: n.type, ...(nameOf(n) ? { name: nameOf(n) } : {}), ...(flowId ? { flowId } : {}), reason });
      const importAs = (type?: string) => {
        this.mapped.set(n.id, ID_PATTERN.test(n.id) && n.id.length <= MAX_ID ? n.id : sanitiseId(n.id));
        if (type) this.mappedType.set(n.id, type);
      };
      if (n.type === 'subflow') {
        if (!this.importable.has(n.id)) skip(`not imported into the sub-flow library: ${unsupportedSubflow(n)!}`);
      } else if (typeof n.z === 'string' && subflows.has(n.z) && !this.importable.has(n.z)) skip(`belongs to subflow "${String(subflows.get(n.z)!.name ?? n.z)}", which is not imported`);
      else if (n.type === 'group') {
        if (typeof n.z === 'string' && subflows.has(n.z)) skip('a group inside a subflow: library sub-flows keep no groups (its nodes were imported)');
        else if (flowId === undefined) skip('not on a flow tab');
      }
      else if (!this.isFlowNode(n) && (n.type === 'websocket-listener' || n.type === 'websocket-client')) configIds.add(n.id); // inlined into the websocket nodes
      else if (!this.isFlowNode(n)) {
        configIds.add(n.id);
        skip(`configuration node (${n.type}): Flowcrew keeps connection settings in node props and credentials; set them up on the nodes that used it`);
      } else if (flowId === undefined) skip('not on a flow tab');
      else if (n.type === 'junction') skip('junction: removed, the wires through it now connect its sources to its targets directly');
      else if (n.type === 'link in') {
        if (isEntry(n)) importAs('subflow-in');
      } else if (n.type === 'link out') {
        if (linkMode(n) === 'return') importAs('link-return');
        else this.checkLinkTargets(n, skip);
      } else if (n.type.startsWith('subflow:')) {
        const target = n.type.substring(8);
        if (this.importable.has(target)) importAs(`subflow:${subflowLibraryId(target)}`);
        else skip(subflows.has(target) ? `instance of subflow "${String(subflows.get(target)!.name ?? target)}", which is not imported: ${unsupportedSubflow(subflows.get(target)!)!}` : `instance of subflow ${target}, whose definition is not in the export`);
      }
      else if (TYPE_MAP[n.type] === undefined) skip(`Node-RED node type "${n.type}" has no Flowcrew equivalent`);
      else if (unsupportedFileVariant(n)) skip(unsupportedFileVariant(n)!);
      else importAs();
    }

    const flows: FlowDocument[] = [];
    const build = (z: string, tab?: NrNode) => {
      const id = this.flowIds.get(z)!;
      const label = tab && typeof tab.label === 'string' && tab.label.trim() ? tab.label : tab ? `Flow ${z}` : `Imported nodes (from flow ${z})`;
      const doc: FlowDocument = { format: FLOW_FORMAT, id, name: label.slice(0, MAX_NAME), version: 1, settings: {}, nodes: [] };
      if (tab && typeof tab.info === 'string' && tab.info.trim()) doc.description = tab.info.slice(0, 10_000);
      if (tab?.disabled === true) this.warn(`flow "${doc.name}" is disabled in Node-RED; it is imported (not deployed) and will run once deployed`);
      const env = tab && tabEnv(tab.env, (n) => this.properties.push({ nodeId: tab.id, type: 'tab', flowId: id, ...n }));
      // Node-RED reads a tab's variables first, then the global ones.
      if (env || globalEnv) doc.env = { ...globalEnv, ...env };
      doc.nodes = this.items.filter((n) => n.z === z && this.mapped.has(n.id)).map((n) => this.toFlowNode(n, configIds, id));
      const placed = layoutUnplaced(doc.nodes);
      if (placed > 0) this.warn(`flow "${doc.name}": ${placed} node(s) had no position and were laid out`);
      flows.push(doc);
    };
    for (const tab of tabs) build(tab.id, tab);
    for (const z of orphanTabs) {
      this.warn(`the export does not include tab ${z}; its nodes were imported as a copy into a new flow "${this.flowIds.get(z)}"`);
      build(z);
    }
    for (const sf of this.importable.values()) this.buildSubflow(sf, configIds, globalEnv);
    const groups = importGroups(this.items, (z) => (this.importable.has(z) ? undefined : this.flowIds.get(z)), this.mapped, sanitiseId, (note) => this.properties.push(note));
    for (const doc of flows) if (groups.has(doc.id)) doc.groups = groups.get(doc.id);
    return { flows, unmapped: this.unmapped, warnings: this.warnings, properties: this.properties, subflows: this.subflowDefs };
  }

  /**
   * A subflow definition's nodes, entry and exit, and its variables as properties (node-red-subflows.ts); the global
   * variables become the library sub-flow's own, as Node-RED reads them inside a subflow after the instance's.
   */
  private buildSubflow(sf: NrNode, configIds: Set<string>, globalEnv: Record<string, FlowVariable> | undefined): void {
    const flowId = this.flowIds.get(sf.id)!;
    const note = (n: Omit<PropertyNote, 'nodeId' | 'type' | 'flowId'>) => this.properties.push({ nodeId: sf.id, type: 'subflow', flowId, ...n });
    const nodes = this.items.filter((n) => n.z === sf.id && this.mapped.has(n.id)).map((n) => this.toFlowNode(n, configIds, flowId));
    const properties = envSchema(envEntries(sf.env), note);
    const resolve = (id: string) => this.resolve(id, sf, new Set());
    const imported = assembleDefinition(sf, nodes, resolve, (id) => this.mapped.get(id), properties, (m) => this.warn(m));
    if (globalEnv) imported.definition.env = { ...globalEnv };
    this.subflowDefs.push(imported);
  }

  /**
   * Nodes placed on a canvas have a z and a position or wires; configuration nodes (even flow-scoped ones, which have
   * a z) have neither. A node of a type we map is a flow node even without both (hand-written or trimmed exports).
   */
  private isFlowNode(n: NrNode): boolean {
    return typeof n.z === 'string' && (typeof n.x === 'number' || Array.isArray(n.wires) || TYPE_MAP[n.type] !== undefined);
  }

  /**
   * Node-RED 3.1+'s global environment variables (the export's `global-config` node): written into every flow of the
   * import, after its tab's own (which win), as Node-RED reads them after the tab's. Its `modules` (what the export
   * was made with beyond the core) is said, so a missing palette module is not a surprise.
   */
  private globalVariables(): Record<string, FlowVariable> | undefined {
    const config = this.items.find((n) => n.type === 'global-config');
    if (!config) return undefined;
    const modules = config.modules !== null && typeof config.modules === 'object' ? Object.entries(config.modules as Record<string, unknown>) : [];
    if (modules.length > 0) this.warn(`the export was made with Node-RED modules ${modules.map(([m, v]) => `${m}@${String(v)}`).join(', ')}: their node types are listed as unmapped unless Flowcrew has an equivalent`);
    return tabEnv(config.env, (note) => this.properties.push({ nodeId: config.id, type: 'global-config', ...note, ...(note.action === 'translated' ? { reason: `${note.reason.replace('a variable of the flow', 'a global variable')}; written into each imported flow (its tab's own variable of the same name wins)` } : {}) }));
  }

  /** Links to a "link in" on another tab cannot be followed: report the link out once. */
  private checkLinkTargets(n: NrNode, skip: (reason: string) => void): void {
    const elsewhere = linkIds(n).map((l) => this.byId.get(l)).filter((target): target is NrNode => target !== undefined && target.z !== n.z);
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

  private toFlowNode(n: NrNode, configIds: Set<string>, flowId: string): FlowNode {
    const type = this.mappedType.get(n.id) ?? TYPE_MAP[n.type]!;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(n)) {
      if (!NON_CONFIG_KEYS.has(key) || (key === 'info' && n.type === 'comment')) raw[key] = structuredClone(value);
      // websocket nodes take their listener/client configuration inline (node-red-props.ts).
      if (typeof value === 'string' && configIds.has(value) && !NON_CONFIG_KEYS.has(key) && !n.type.startsWith('websocket ')) {
        this.warn(`${describe(n)} refers to configuration node ${describe(this.byId.get(value)!)} in "${key}", which was not imported`);
      }
    }
    const report = (note: Omit<PropertyNote, 'nodeId' | 'type' | 'flowId'>) => this.properties.push({ nodeId: n.id, type: n.type, flowId, ...note });
    if (typeof n.info === 'string' && n.info.trim() && n.type !== 'comment') report({ property: '/info', action: 'dropped', from: n.info, reason: 'node descriptions are not kept (Flowcrew nodes have none)' });
    let props: Record<string, unknown>;
    const instanceOf = n.type.startsWith('subflow:') ? this.importable.get(n.type.substring(8)) : undefined;
    if (instanceOf) {
      props = instanceProps(n, envEntries(instanceOf.env), report);
      for (const key of Object.keys(raw)) if (key !== 'env' && key !== GROUP_ENV) report({ property: `/${key}`, action: 'dropped', from: raw[key], reason: 'a subflow instance takes only its variables' });
      // Its group's variables, read inside after the instance's own (Node-RED: instance, then group, then tab).
      const declared = new Set(envEntries(instanceOf.env).map((e) => e.name));
      for (const [name, value] of Object.entries((n[GROUP_ENV] as Record<string, unknown> | undefined) ?? {})) {
        if (declared.has(name)) continue;
        props[name] = value;
        report({ property: `/g`, action: 'translated', from: name, to: value, reason: `the variable ${name} of the instance's group: a property of the node, read inside after the instance's own` });
      }
    } else if (type === 'subflow-in' || type === 'link-return') {
      // Entry and answer of a link call: their Node-RED config (links, mode) is the wiring, now done by the call.
      props = {};
      const reason = type === 'subflow-in' ? 'a link-in a "link call" enters at: now a sub-flow entry (subflow-in)' : 'a "link out" in return mode: now a link-return, which answers the call';
      for (const key of Object.keys(raw)) report({ property: `/${key}`, action: 'dropped', from: raw[key], reason });
    } else {
      const editor = new PropsEditor(raw, report);
      normaliseNodeRedProps(n.type, editor, {
        nodeId: n.id,
        // Node-RED's "group" scope: every node in the node's group, nested groups included.
        groupMembers: (id) => (typeof this.byId.get(id)?.g === 'string' ? groupDescendants(this.items, this.byId.get(id)!.g as string).filter((m) => m !== id && this.mapped.has(m)).map((m) => this.mapped.get(m)!) : []),
        warn: (message) => this.warn(message),
        configNode: (id) => this.byId.get(id),
      });
      if (n.type === 'link call') this.linkCallTargets(n, editor);
      props = editor.props;
    }
    const inSubflow = typeof n.z === 'string' ? this.importable.get(n.z) : undefined;
    if (inSubflow) useSubflowProps(props, new Set(envEntries(inSubflow.env).map((e) => e.name)), report, n.type);
    const node: FlowNode = { id: this.mapped.get(n.id)!, type };
    const name = nameOf(n);
    if (name) node.name = name;
    if (typeof n.x === 'number' && typeof n.y === 'number') node.position = { x: n.x, y: n.y };
    node.props = props;
    const wires = type === 'link-return' ? [] : outputWires(n).map((port) => {
      const targets: string[] = [];
      for (const target of port) for (const id of this.resolve(target, n, new Set())) if (!targets.includes(id)) targets.push(id);
      return targets;
    });
    // Trailing ports without wires say nothing (Node-RED writes [[]] for some nodes without outputs).
    while (wires.length > 0 && wires[wires.length - 1]!.length === 0) wires.pop();
    if (wires.length > 0) node.wires = wires;
    if (n.d === true) node.disabled = true;
    return node;
  }

  /** A link call's targets (the entry node and its flow), resolved from Node-RED ids: by id, or every link-in for a dynamic call. */
  private linkCallTargets(n: NrNode, editor: PropsEditor): void {
    const dynamic = n.linkType === 'dynamic';
    const candidates = dynamic ? this.items.filter((l) => l.type === 'link in' && this.mapped.has(l.id)) : linkIds(n).slice(0, 1).map((id) => this.byId.get(id)).filter((l): l is NrNode => l !== undefined && this.mapped.has(l.id));
    const entries = candidates.map((l) => ({ id: l.id, ...(nameOf(l) ? { name: nameOf(l) } : {}), flowId: this.flowIds.get(l.z!)!, nodeId: this.mapped.get(l.id)! }));
    if (!linkCallProps(editor, dynamic, entries)) this.warn(`${describe(n)} calls a "link in" that is not in the export; it fails each message until its target is set`);
  }

  /** Where a wire from `source` to `targetId` ends up once links and junctions are removed. */
  private resolve(targetId: string, source: NrNode, seen: Set<string>): string[] {
    if (seen.has(targetId)) return [];
    seen.add(targetId);
    const target = this.byId.get(targetId);
    // A link in is always passed through, also one kept as a link call's entry (an entry has no input).
    if (target?.type === 'link in' || target?.type === 'junction') return outputWires(target)[0]?.flatMap((id) => this.resolve(id, source, seen)) ?? [];
    const mappedId = this.mapped.get(targetId);
    if (mappedId) return [mappedId];
    if (!target) {
      this.warn(`${describe(source)} was wired to ${targetId}, which is not in the export; the wire was removed`);
      return [];
    }
    if (target.type === 'link out' && linkMode(target) === 'link') {
      const links = linkIds(target);
      const sameTab = links.filter((l) => this.byId.get(l)?.z === target.z);
      if (links.some((l) => this.byId.get(l) === undefined)) {
        this.warn(`${describe(target)} links to a "link in" that is not in the export; that link was removed`);
      }
      if (links.some((l) => this.byId.has(l) && this.byId.get(l)!.z !== target.z)) {
        this.warn(`${describe(source)} sends to ${describe(target)}, which links to another flow; that part of the wire was removed`);
      }
      return sameTab.flatMap((id) => this.resolve(id, source, seen));
    }
    this.warn(`${describe(source)} was wired to ${describe(target)}, which was not imported; the wire was removed`);
    return [];
  }
}

/** Convert a Node-RED export. Throws if `json` is not one (see isNodeRedExport). */
export function importNodeRed(json: unknown, options: NodeRedImportOptions = {}): NodeRedImport {
  if (!isNodeRedExport(json)) throw new Error('not a Node-RED export: expected an array of nodes with "id", "type" and "z" (or { flows: [...] })');
  const notes: PropertyNote[] = [];
  const warnings: string[] = [];
  // Subflow instances first: inside a copy, the subflow's variables come before its group's, as in Node-RED.
  const inlined = inlineSubflows(exportedNodes(json) as NrNode[], (n) => notes.push(n), (w) => warnings.push(w));
  const items = watchAsNodeRed(applyGroupEnv(inlined, (n) => notes.push(n)), (n) => notes.push(n));
  const result = new Importer(items, options).run();
  return { ...result, warnings: [...warnings, ...result.warnings], properties: [...notes, ...result.properties] };
}
