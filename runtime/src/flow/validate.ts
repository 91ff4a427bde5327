/**
 * Flow validation: the format schema (ajv, compiled once) and semantic checks against the node registry, in one
 * pass: every problem is reported together (a user fixes everything at once), each with a JSON pointer into the
 * submitted document. Only what the format leaves unusable (no node list, a node without an id or type, wires that
 * are not lists of ids) is not checked further.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import { NODES_PER_TURN, yieldToEventLoop } from './event-loop.ts';
import { DEFAULT_MAX_DEPTH, findTooDeep } from './json-depth.ts';
import type { FlowDocument, FlowIssue, FlowNode } from './types.ts';
import { flowSchema } from './schema.ts';

/** What validation needs to know about node types; the registry implements it. */
export interface NodeTypeCatalog {
  has(type: string): boolean;
  /** Validates (and fills defaults into) a node's props; returns issues with pointers relative to the props. */
  checkProps(type: string, props: Record<string, unknown>): Array<{ pointer: string; message: string }>;
  /** The node type's own checks on props that passed checkProps (NodeDefinition.validate); warnings do not invalidate. */
  checkNode?(type: string, props: Record<string, unknown>): Array<{ pointer: string; message: string; severity?: 'error' | 'warning' }>;
  outputCount(type: string, props: Record<string, unknown>): number;
  inputCount(type: string): number;
  allowsCycles(type: string): boolean;
}

const checkFormat = createSchemaValidator().compile(flowSchema);

/** Turn ajv errors into issues; `base` prefixes the pointers (e.g. '/nodes/2/props'). */
export function ajvIssues(errors: ErrorObject[] | null | undefined, base = ''): Array<{ pointer: string; message: string }> {
  return (errors ?? []).map((error) => {
    let pointer = base + error.instancePath;
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'required') {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      pointer += `/${missing}`;
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      const extra = (error.params as { additionalProperty: string }).additionalProperty;
      pointer += `/${extra}`;
      message = 'is not a known property';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`;
    }
    return { pointer: pointer || '/', message };
  });
}

export interface ValidationResult {
  valid: boolean;
  issues: FlowIssue[];
  /** What node types report without refusing the flow (e.g. CrewAI fields a crew node cannot use), with pointers. */
  warnings: FlowIssue[];
  /** The document with node props defaults filled in (only meaningful when valid). */
  flow: FlowDocument;
}

export interface ValidateOptions {
  /** Deepest JSON nesting accepted anywhere in the document (FLOWCREW_MAX_DEPTH). */
  maxDepth?: number;
}

/**
 * Validate a flow document. `input` is untrusted JSON. The returned flow is a copy with defaults applied;
 * the input is never modified. Linear in the size of the flow.
 */
export function validateFlow(input: unknown, catalog: NodeTypeCatalog, options: ValidateOptions = {}): ValidationResult {
  const steps = validationSteps(input, catalog, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** The same as validateFlow, giving the event loop a turn every few hundred nodes so a large flow blocks nothing. */
export async function validateFlowAsync(input: unknown, catalog: NodeTypeCatalog, options: ValidateOptions = {}): Promise<ValidationResult> {
  const steps = validationSteps(input, catalog, options);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await yieldToEventLoop();
  }
}

/** Validation as a generator that yields between chunks of nodes; validateFlow and validateFlowAsync drive it. */
function* validationSteps(input: unknown, catalog: NodeTypeCatalog, options: ValidateOptions): Generator<void, ValidationResult> {
  // Before anything recursive (structuredClone, ajv): nesting deeper than the stack would be a crash, not an issue.
  const tooDeep = findTooDeep(input, options.maxDepth ?? DEFAULT_MAX_DEPTH);
  if (tooDeep) return { valid: false, issues: [withNodeId(tooDeep, input as FlowDocument)], warnings: [], flow: input as FlowDocument };
  const flow = structuredClone(input) as FlowDocument;
  const issues: FlowIssue[] = [];
  const warnings: FlowIssue[] = [];
  if (!checkFormat(flow)) {
    issues.push(...ajvIssues(checkFormat.errors).map((i) => withNodeId(i, flow)));
    if (!Array.isArray((flow as { nodes?: unknown } | null)?.nodes)) return { valid: false, issues, warnings, flow };
  }
  const index = new Map<string, number>();
  flow.nodes.forEach((node, i) => {
    if (!usable(node)) return;
    if (index.has(node.id)) {
      issues.push({ pointer: `/nodes/${i}/id`, message: `duplicate node id "${node.id}" (also at /nodes/${index.get(node.id)})`, nodeId: node.id });
    } else index.set(node.id, i);
  });

  for (let i = 0; i < flow.nodes.length; i++) {
    if (i > 0 && i % NODES_PER_TURN === 0) yield;
    const node = flow.nodes[i]!;
    const at = `/nodes/${i}`;
    if (!usable(node)) continue;
    if (!catalog.has(node.type)) {
      issues.push({ pointer: `${at}/type`, message: `unknown node type "${node.type}": no installed node pack provides it`, nodeId: node.id });
      continue;
    }
    node.props ??= {};
    if (!isObject(node.props)) continue; // reported by the format check
    const propsIssues = catalog.checkProps(node.type, node.props);
    for (const problem of propsIssues) {
      issues.push({ pointer: `${at}/props${problem.pointer === '/' ? '' : problem.pointer}`, message: problem.message, nodeId: node.id });
    }
    for (const problem of propsIssues.length === 0 ? (catalog.checkNode?.(node.type, node.props) ?? []) : []) {
      const issue = { pointer: `${at}/props${problem.pointer === '/' ? '' : problem.pointer}`, message: problem.message, nodeId: node.id };
      (problem.severity === 'warning' ? warnings : issues).push(issue);
    }
    const ports = catalog.outputCount(node.type, node.props);
    if (!wellFormedWires(node.wires)) continue; // reported by the format check
    const wires = node.wires ?? [];
    if (wires.length > ports) {
      issues.push({ pointer: `${at}/wires`, message: `has ${wires.length} output ports wired but node type "${node.type}" has ${ports}`, nodeId: node.id });
    }
    wires.forEach((targets, port) =>
      targets.forEach((target, t) => {
        const targetIndex = index.get(target);
        if (targetIndex === undefined) {
          issues.push({ pointer: `${at}/wires/${port}/${t}`, message: `wire to missing node "${target}"`, nodeId: node.id });
        } else {
          const targetType = flow.nodes[targetIndex]!.type;
          if (catalog.has(targetType) && catalog.inputCount(targetType) === 0) {
            issues.push({ pointer: `${at}/wires/${port}/${t}`, message: `wire to node "${target}" of type "${targetType}", which has no input`, nodeId: node.id });
          }
        }
      }),
    );
  }

  yield;
  issues.push(...cycleIssues(flow, catalog, index));
  return { valid: issues.length === 0, issues, warnings, flow };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A node the semantic checks can look at even when the format check found something else wrong with it. */
function usable(node: unknown): node is FlowNode {
  return isObject(node) && typeof node.id === 'string' && typeof node.type === 'string';
}

function wellFormedWires(wires: unknown): wires is string[][] | undefined {
  return wires === undefined || (Array.isArray(wires) && wires.every((port) => Array.isArray(port) && port.every((id) => typeof id === 'string')));
}

function withNodeId(issue: { pointer: string; message: string }, flow: FlowDocument): FlowIssue {
  const match = /^\/nodes\/(\d+)/.exec(issue.pointer);
  const node = match && Array.isArray(flow?.nodes) ? flow.nodes[Number(match[1])] : undefined;
  return node && typeof node.id === 'string' ? { ...issue, nodeId: node.id } : issue;
}

/** Reject cycles unless every cycle passes through a node type that allows them (Tarjan's SCCs). */
function cycleIssues(flow: FlowDocument, catalog: NodeTypeCatalog, index: Map<string, number>): FlowIssue[] {
  const issues: FlowIssue[] = [];
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  let counter = 0;
  // Each node's targets, flattened once: recomputing them per DFS step made a 10,000-wire node quadratic.
  const adjacency = new Map<string, string[]>();
  const edges = (id: string): string[] => {
    let targets = adjacency.get(id);
    if (!targets) {
      // Only wires between known nodes (a wire to a missing node is an issue of its own).
      const wires = flow.nodes[index.get(id)!]!.wires;
      targets = wellFormedWires(wires) ? (wires ?? []).flat().filter((target) => index.has(target)) : [];
      adjacency.set(id, targets);
    }
    return targets;
  };

  const visit = (start: string): void => {
    // Iterative DFS so a 10,000-node chain cannot overflow the stack.
    const work: Array<{ id: string; next: number }> = [{ id: start, next: 0 }];
    order.set(start, counter);
    low.set(start, counter++);
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const targets = edges(frame.id);
      if (frame.next < targets.length) {
        const target = targets[frame.next++]!;
        if (!order.has(target)) {
          order.set(target, counter);
          low.set(target, counter++);
          stack.push(target);
          onStack.add(target);
          work.push({ id: target, next: 0 });
        } else if (onStack.has(target)) {
          low.set(frame.id, Math.min(low.get(frame.id)!, order.get(target)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.id, Math.min(low.get(parent.id)!, low.get(frame.id)!));
      if (low.get(frame.id) === order.get(frame.id)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.id);
        const selfLoop = component.length === 1 && edges(member).includes(member);
        if (component.length > 1 || selfLoop) {
          const allowed = component.some((id) => catalog.allowsCycles(flow.nodes[index.get(id)!]!.type));
          if (!allowed) {
            const first = component[component.length - 1]!;
            issues.push({
              pointer: `/nodes/${index.get(first)}/wires`,
              message: `wiring cycle through ${component.reverse().map((id) => `"${id}"`).join(' → ')}: none of these node types allows cycles`,
              nodeId: first,
            });
          }
        }
      }
    }
  };
  for (const id of index.keys()) if (!order.has(id)) visit(id);
  return issues;
}
