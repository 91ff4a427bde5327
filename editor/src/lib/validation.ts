/**
 * Property validation in the browser, on the runtime's own ajv set-up (@flowcrew/sdk/schema: draft 2020-12,
 * allErrors, strict off, the same formats and keywords), so a value the runtime would reject is flagged while the
 * user types, before it is sent.
 */
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import type { FlowDocument, Issue, NodeTypeInfo } from '../api/types';
import { expressionIssues } from './expressions/issues';

/** One problem in a node's props, `pointer` relative to the props object ('' for the object itself). */
export interface PropIssue {
  pointer: string;
  message: string;
}

// The runtime checked these schemas against the meta-schema when it loaded their packs: not again here (slow).
const ajv = createSchemaValidator({ validateSchema: false });
const withDefaults = createSchemaValidator({ useDefaults: true, validateSchema: false });
const validators = new Map<string, { check: ValidateFunction; fill: ValidateFunction } | Error>();

function compiled(type: NodeTypeInfo): { check: ValidateFunction; fill: ValidateFunction } | Error {
  let entry = validators.get(type.type);
  if (!entry) {
    try {
      const schema = { type: 'object', ...(type.props ?? {}) };
      entry = { check: ajv.compile(schema), fill: withDefaults.compile(schema) };
    } catch (error) {
      entry = error as Error;
    }
    validators.set(type.type, entry);
  }
  return entry;
}

/**
 * Problems by node type and props (as JSON): the whole flow is checked after each edit, and on a large flow only the
 * edited node is new work (1,000 nodes: ~0.9 s to check from scratch on a loaded 2-core machine, a few ms from here).
 */
let checked = new WeakMap<NodeTypeInfo, Map<string, PropIssue[]>>();
const CHECKED_MAX = 20_000;

/** Forget compiled validators and results (node types were reloaded, e.g. a pack was upgraded). */
export function resetValidators(): void {
  validators.clear();
  checked = new WeakMap();
}

/** ajv errors as pointer + message, phrased as the runtime phrases them. */
export function ajvIssues(errors: ErrorObject[] | null | undefined): PropIssue[] {
  const issues: PropIssue[] = [];
  for (const error of errors ?? []) {
    // oneOf/anyOf failures repeat every branch's error: keep the summary only.
    if (error.schemaPath.includes('/oneOf/') || error.schemaPath.includes('/anyOf/')) continue;
    let pointer = error.instancePath;
    let message = error.message ?? 'is invalid';
    if (error.keyword === 'required') {
      pointer += `/${(error.params as { missingProperty: string }).missingProperty}`;
      message = 'is required';
    } else if (error.keyword === 'additionalProperties') {
      pointer += `/${(error.params as { additionalProperty: string }).additionalProperty}`;
      message = 'is not a known property';
    } else if (error.keyword === 'enum') {
      message = `must be one of ${JSON.stringify((error.params as { allowedValues: unknown[] }).allowedValues)}`;
    } else if (error.keyword === 'oneOf' || error.keyword === 'anyOf') {
      message = 'does not match any of the allowed forms';
    }
    if (!issues.some((i) => i.pointer === pointer && i.message === message)) issues.push({ pointer, message });
  }
  return issues;
}

export function validateProps(type: NodeTypeInfo, props: Record<string, unknown>): PropIssue[] {
  let byProps = checked.get(type);
  if (!byProps) checked.set(type, (byProps = new Map()));
  const key = JSON.stringify(props);
  let issues = byProps.get(key);
  if (!issues) {
    if (byProps.size >= CHECKED_MAX) byProps.clear();
    issues = checkProps(type, props);
    byProps.set(key, issues);
  }
  return issues.map((issue) => ({ ...issue }));
}

function checkProps(type: NodeTypeInfo, props: Record<string, unknown>): PropIssue[] {
  const entry = compiled(type);
  if (entry instanceof Error) return [{ pointer: '', message: `the node type's props schema cannot be compiled: ${entry.message}` }];
  const issues = entry.check(props) ? [] : ajvIssues(entry.check.errors);
  // Expressions are checked with their own parsers, as the runtime compiles them at deploy, but before it.
  for (const issue of expressionIssues(type.props ?? {}, props)) if (!issues.some((i) => i.pointer === issue.pointer)) issues.push(issue);
  return issues;
}

/** Props for a new node: the schema's defaults filled in (ajv useDefaults), as the runtime will fill them. */
export function initialProps(type: NodeTypeInfo): Record<string, unknown> {
  const entry = compiled(type);
  const props: Record<string, unknown> = {};
  if (!(entry instanceof Error)) entry.fill(props);
  return props;
}

/**
 * Every problem the editor can see in a flow before sending it: unknown node types, invalid props, missing
 * required credentials, wires to missing nodes or to nodes without inputs. Pointers index into `flow`.
 */
export function validateFlowLocally(flow: FlowDocument, types: ReadonlyMap<string, NodeTypeInfo>, outputCount: (type: NodeTypeInfo, props: Record<string, unknown>) => number): Issue[] {
  const issues: Issue[] = [];
  if (!flow.name.trim()) issues.push({ pointer: '/name', message: 'must not be empty' });
  const byId = new Map(flow.nodes.map((n) => [n.id, n]));
  flow.nodes.forEach((node, i) => {
    const at = `/nodes/${i}`;
    const type = types.get(node.type);
    if (!type) {
      issues.push({ pointer: `${at}/type`, message: `unknown node type "${node.type}": no installed node pack provides it`, nodeId: node.id });
      return;
    }
    for (const issue of validateProps(type, node.props ?? {})) issues.push({ pointer: `${at}/props${issue.pointer}`, message: issue.message, nodeId: node.id });
    if (type.credentials?.required && !node.credentials) issues.push({ pointer: `${at}/credentials`, message: `needs a stored "${type.credentials.type}" credential`, nodeId: node.id });
    if (node.name !== undefined && node.name.length > 200) issues.push({ pointer: `${at}/name`, message: 'must be at most 200 characters', nodeId: node.id });
    const ports = outputCount(type, node.props ?? {});
    (node.wires ?? []).forEach((targets, port) => {
      if (port >= ports && targets.length > 0) issues.push({ pointer: `${at}/wires/${port}`, message: `port ${port + 1} no longer exists (the node has ${ports})`, nodeId: node.id });
      targets.forEach((target, t) => {
        const targetNode = byId.get(target);
        if (!targetNode) issues.push({ pointer: `${at}/wires/${port}/${t}`, message: `wire to missing node "${target}"`, nodeId: node.id });
        else if (types.get(targetNode.type)?.inputs === 0) issues.push({ pointer: `${at}/wires/${port}/${t}`, message: `wire to "${targetNode.name || target}", which has no input`, nodeId: node.id });
      });
    });
  });
  return issues;
}
