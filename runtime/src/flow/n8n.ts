/**
 * n8n import: an n8n workflow export (`{ name, nodes, connections }`, or an array of them) becomes Flowcrew flows,
 * one per workflow. Node by node (n8n-nodes.ts), expressions translated to JSONata (n8n-expressions.ts); a node or
 * expression with no translation is listed in `unmapped` / `warnings` with the reason, never dropped silently: an
 * untranslated expression becomes a JSONata `$error(...)` naming it, so the flow fails clearly where it would differ.
 *
 * Data model: n8n passes arrays of items between nodes, Flowcrew one message per item (`msg.payload` = the item's
 * json). A node read elsewhere through `$('Node')` gets a change node after it that keeps its output on
 * `msg.n8n[Node]`, so later nodes on the same path see it.
 */
import { randomUUID } from 'node:crypto';
import { FLOW_FORMAT, type FlowDocument, type FlowNode } from './types.ts';
import { n8nFlowId, translateN8nNode, UnmappedN8nNode, UntranslatableExpression, type N8nNode, type Output, type Translation } from './n8n-nodes.ts';
import type { NodeRefs } from './n8n-expressions.ts';

export interface N8nImport {
  flows: FlowDocument[];
  unmapped: Array<{ id: string; type: string; name?: string; flowId?: string; reason: string }>;
  warnings: string[];
}

interface N8nWorkflow {
  id?: unknown;
  name?: unknown;
  nodes: N8nNode[];
  connections: Record<string, Record<string, Array<Array<{ node: string; type?: string; index?: number }> | null>>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

const isWorkflow = (json: unknown): json is N8nWorkflow =>
  isObject(json) && Array.isArray(json.nodes) && isObject(json.connections) &&
  json.nodes.every((n) => isObject(n) && typeof n.type === 'string' && typeof n.name === 'string') &&
  json.nodes.some((n) => String((n as N8nNode).type).startsWith('n8n-nodes-') || String((n as N8nNode).type).startsWith('@n8n/'));

/** An n8n workflow export, or an array of them. */
export function isN8nExport(json: unknown): boolean {
  if (Array.isArray(json)) return json.length > 0 && json.every(isWorkflow);
  return isWorkflow(json);
}

export function importN8n(json: unknown): N8nImport {
  const workflows = Array.isArray(json) ? (json as N8nWorkflow[]) : [json as N8nWorkflow];
  const result: N8nImport = { flows: [], unmapped: [], warnings: [] };
  for (const wf of workflows) importWorkflow(wf, result);
  return result;
}

const safeId = (id: string) => id.replace(/[^A-Za-z0-9_.:-]/g, '_').slice(0, 100) || randomUUID();

function importWorkflow(wf: N8nWorkflow, result: N8nImport): void {
  const flowId = typeof wf.id === 'string' || typeof wf.id === 'number' ? n8nFlowId(String(wf.id)) : randomUUID();
  const name = typeof wf.name === 'string' && wf.name.trim() ? wf.name.slice(0, 200) : 'Imported n8n workflow';
  const translations = new Map<string, Translation>();
  const refsOf = new Map<string, NodeRefs>();
  const usedIds = new Set<string>();
  for (const node of wf.nodes) {
    let id = safeId(String(node.id ?? node.name));
    while (usedIds.has(id)) id = `${id}_`;
    usedIds.add(id);
    const base: Partial<FlowNode> = { id, ...(Array.isArray(node.position) ? { position: { x: Number(node.position[0]) || 0, y: Number(node.position[1]) || 0 } } : {}), ...(node.disabled ? { disabled: true } : {}) };
    const refs: NodeRefs = new Set();
    try {
      const t = translateN8nNode({ ...node, connectedInputs: connectedInputs(wf, node.name) }, base, refs);
      translations.set(node.name, t);
      refsOf.set(node.name, refs);
      for (const note of t.notes) result.warnings.push(`${name}: ${note}`);
    } catch (error) {
      if (!(error instanceof UnmappedN8nNode) && !(error instanceof UntranslatableExpression)) throw error;
      const why = error instanceof UntranslatableExpression ? `an expression is not translated: ${error.message}` : error.message;
      // Keep the node's place in the flow: it fails every message with the reason instead of vanishing.
      result.unmapped.push({ id, type: node.type, name: node.name, flowId, reason: why });
      translations.set(node.name, failing(node, base, why));
    }
  }
  const kept = keepReferencedOutputs(wf, translations, refsOf, result, name);
  wire(wf, translations, kept);
  respondAtLeaves(wf, translations, (name, port) => sourcesOf(wf, translations, kept, name, port), kept.captureNodes);
  const nodes = [...translations.values()].flatMap((t) => t.nodes).concat(kept.captureNodes);
  if (nodes.length === 0) { result.warnings.push(`${name}: nothing to import`); return; }
  result.flows.push({ format: FLOW_FORMAT, id: flowId, name, version: 0, description: `Imported from n8n`, nodes });
}

/** The input indexes of `name` some node is connected to. */
function connectedInputs(wf: N8nWorkflow, name: string): number[] {
  const found = new Set<number>();
  for (const byType of Object.values(wf.connections)) for (const targets of byType.main ?? []) for (const c of targets ?? []) if (c.node === name) found.add(c.index ?? 0);
  return [...found].sort((a, b) => a - b);
}

/** A node that could not be translated: a change node failing with the reason (visible in the run), same wiring. */
function failing(node: N8nNode, base: Partial<FlowNode>, why: string): Translation {
  const message = JSON.stringify(`n8n node "${node.name}" (${node.type}) was not imported: ${why}`);
  const stand: FlowNode = { ...base, id: base.id!, type: 'change', name: `${node.name} (not imported)`, props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: `$error(${message})`, tot: 'jsonata' }] } };
  return { nodes: [stand], entries: [stand.id], outputs: Array.from({ length: 4 }, () => [{ nodeId: stand.id, port: 0 }]), notes: [] };
}

interface Kept { captureNodes: FlowNode[]; capture: Map<string, FlowNode[]> }

/** For each node read by $('Node') elsewhere, one change node per output port keeping its output on msg.n8n[Node]. */
function keepReferencedOutputs(wf: N8nWorkflow, translations: Map<string, Translation>, refsOf: Map<string, NodeRefs>, result: N8nImport, flowName: string): Kept {
  const referenced = new Set([...refsOf.values()].flatMap((r) => [...r]));
  const kept: Kept = { captureNodes: [], capture: new Map() };
  for (const name of referenced) {
    const t = translations.get(name);
    if (!t) { result.warnings.push(`${flowName}: an expression reads node "${name}", which is not in the workflow`); continue; }
    const ports: FlowNode[] = [];
    t.outputs.forEach((out, port) => {
      if (out === 'input') return;
      const node: FlowNode = {
        id: `${out[0]?.nodeId ?? safeId(name)}-keep-${port}`, type: 'change', name: `keep ${name}'s output`,
        props: { rules: [{ t: 'set', p: `n8n["${name.replace(/"/g, '')}"]`, pt: 'msg', to: 'payload', tot: 'msg' }] },
      };
      ports[port] = node;
      kept.captureNodes.push(node);
    });
    kept.capture.set(name, ports);
  }
  return kept;
}

/** The Flowcrew ports an n8n output stands for, following pass-through nodes back to their sources. */
function sourcesOf(wf: N8nWorkflow, translations: Map<string, Translation>, kept: Kept, name: string, port: number, seen = new Set<string>()): Array<{ nodeId: string; port: number }> {
  const capture = kept.capture.get(name)?.[port];
  if (capture) return [{ nodeId: capture.id, port: 0 }];
  const out: Output | undefined = translations.get(name)?.outputs[port];
  if (out === undefined) return [];
  if (out !== 'input') return out;
  if (seen.has(name)) return [];
  seen.add(name);
  const sources: Array<{ nodeId: string; port: number }> = [];
  for (const [src, byType] of Object.entries(wf.connections)) {
    (byType.main ?? []).forEach((targets, srcPort) => {
      if (targets?.some((c) => c.node === name)) sources.push(...sourcesOf(wf, translations, kept, src, srcPort, seen));
    });
  }
  return sources;
}

function addWire(nodes: FlowNode[], from: { nodeId: string; port: number }, to: string): void {
  const node = nodes.find((n) => n.id === from.nodeId);
  if (!node) return;
  node.wires ??= [];
  while (node.wires.length <= from.port) node.wires.push([]);
  if (!node.wires[from.port]!.includes(to)) node.wires[from.port]!.push(to);
}

function wire(wf: N8nWorkflow, translations: Map<string, Translation>, kept: Kept): void {
  const all = () => [...translations.values()].flatMap((t) => t.nodes).concat(kept.captureNodes);
  const nodes = all();
  // A kept output: the node's real port → its capture node.
  for (const [name, ports] of kept.capture) {
    ports.forEach((capture, port) => {
      const out = translations.get(name)?.outputs[port];
      if (capture && out && out !== 'input') for (const p of out) addWire(nodes, p, capture.id);
    });
  }
  for (const [src, byType] of Object.entries(wf.connections)) {
    (byType.main ?? []).forEach((targets, port) => {
      for (const c of targets ?? []) {
        const target = translations.get(c.node);
        const entries = target?.inputEntries?.[c.index ?? 0] ?? target?.entries ?? [];
        if (entries.length === 0) continue;
        for (const from of sourcesOf(wf, translations, kept, src, port)) for (const entry of entries) addWire(nodes, from, entry);
      }
    });
  }
}

/**
 * Webhooks answering with "the last node's output", and sub-workflows answering their Execute Workflow: a response
 * (or subflow-out) after each node that has no successor.
 */
function respondAtLeaves(wf: N8nWorkflow, translations: Map<string, Translation>, portsOf: (name: string, port: number) => Array<{ nodeId: string; port: number }>, captureNodes: FlowNode[]): void {
  const all = () => [...translations.values()].flatMap((t) => t.nodes).concat(captureNodes);
  for (const node of wf.nodes) {
    const t = translations.get(node.name);
    const spec = t?.respondWithLastNode;
    if (!t || !spec) continue;
    const reachable = new Set<string>();
    const stack = [node.name];
    while (stack.length) {
      const name = stack.pop()!;
      for (const targets of wf.connections[name]?.main ?? []) for (const c of targets ?? []) if (!reachable.has(c.node)) { reachable.add(c.node); stack.push(c.node); }
    }
    const leaves = [...reachable].filter((name) => !(wf.connections[name]?.main ?? []).some((targets) => (targets ?? []).length > 0));
    const id = `${t.nodes[0]!.id}-last-node`;
    const rules = spec.responseData === 'noData' ? [{ t: 'set', p: 'payload', pt: 'msg', to: '""', tot: 'jsonata' }]
      : spec.responseData === 'allEntries' ? [{ t: 'set', p: 'payload', pt: 'msg', to: '[payload]', tot: 'jsonata' }] : [];
    const respond: FlowNode = spec.caller
      ? { id, type: 'subflow-out', name: `${node.name}: answer the calling workflow`, props: {} }
      : { id, type: 'webhook-response', name: `${node.name}: respond with the last node`, props: spec.responseCode ? { statusCode: spec.responseCode } : {} };
    const shape: FlowNode = { id: `${id}-shape`, type: 'change', name: `${node.name}: response body`, props: { rules }, wires: [[id]] };
    t.nodes.push(shape, respond);
    const nodes = all();
    for (const leaf of leaves) {
      const outputs = translations.get(leaf)?.outputs ?? [];
      outputs.forEach((_, port) => { for (const p of portsOf(leaf, port)) addWire(nodes, p, shape.id); });
    }
  }
}
