/**
 * Where a manual run can enter a flow: its triggers (inject, webhook, other trigger nodes), each the way it
 * really starts a run, or an explicit node with an input the user types. And a webhook's full address.
 */
import { EVENT_ROLE_KINDS } from '@flowcrew/sdk/roles';
import type { FlowDocument, FlowNode, NodeTypeInfo } from '../api/types';

export type RunEntry =
  | { kind: 'inject'; node: FlowNode; label: string }
  | { kind: 'webhook'; node: FlowNode; label: string; method: string; path: string }
  | { kind: 'trigger'; node: FlowNode; label: string };

/** What a node is for the editor is its type's declared role (any pack's), never its type name. */
const roleOf = (type: NodeTypeInfo | undefined) => type?.role;
const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

export function runEntries(doc: FlowDocument, types: ReadonlyMap<string, NodeTypeInfo>): RunEntry[] {
  const entries: RunEntry[] = [];
  for (const node of doc.nodes) {
    if (node.disabled) continue;
    const type = types.get(node.type);
    const name = node.name || type?.label || node.type;
    const role = roleOf(type);
    if (role?.kind === 'manual-entry') entries.push({ kind: 'inject', node, label: `${capitalised(type?.label ?? 'inject')} "${name}"` });
    else if (role?.kind === 'http-entry') {
      const { method, path } = webhookRoute(node, type);
      entries.push({ kind: 'webhook', node, label: `${capitalised(type?.label ?? 'webhook')} "${name}" (${method} ${webhookPath(path)})`, method, path });
    } else {
      const eventDriven = role !== undefined && EVENT_ROLE_KINDS.includes(role.kind);
      if (type?.category === 'trigger' && type.inputs === 0 && !eventDriven) entries.push({ kind: 'trigger', node, label: `${type.label} "${name}"` });
    }
  }
  // The runtime's own default is the first inject: offer that first.
  return entries.sort((a, b) => Number(b.kind === 'inject') - Number(a.kind === 'inject'));
}

/** Whether the node's type starts runs from HTTP requests (role http-entry), and which props hold method and path. */
export function httpEntry(type: NodeTypeInfo | undefined): { methodProp: string; pathProp: string } | undefined {
  const role = roleOf(type);
  return role?.kind === 'http-entry' ? role : undefined;
}

/** An HTTP entry node's method (upper case; ALL is called with POST) and its path below /webhook, from the props its role names. */
export function webhookRoute(node: FlowNode, type?: NodeTypeInfo): { method: string; path: string } {
  const entry = httpEntry(type) ?? { methodProp: 'method', pathProp: 'url' };
  const props = (node.props ?? {}) as Record<string, unknown>;
  const method = typeof props[entry.methodProp] === 'string' ? (props[entry.methodProp] as string).toUpperCase() : 'POST';
  const path = props[entry.pathProp];
  return { method, path: typeof path === 'string' ? path : '' };
}

/** The path a webhook answers at, e.g. '/webhook/orders/:id'. */
export function webhookPath(path: string): string {
  return `/webhook${path.startsWith('/') ? path : `/${path}`}`;
}

/** The full address to call, e.g. 'https://flows.example.com/webhook/orders/:id'. */
export function webhookUrl(origin: string, path: string): string {
  return `${origin.replace(/\/$/, '')}${webhookPath(path)}`;
}

/** Methods that carry a request body (GET and DELETE requests are sent without one). */
export function methodHasBody(method: string): boolean {
  return !['GET', 'HEAD', 'DELETE'].includes(method);
}
