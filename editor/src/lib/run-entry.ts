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

/** Trigger types that react to events inside the runtime (errors, statuses, completions, subflow calls), not started by hand. */
const NOT_MANUAL = new Set(['catch', 'status', 'complete', 'subflow-in', 'link-in']);

export function runEntries(doc: FlowDocument, types: ReadonlyMap<string, NodeTypeInfo>): RunEntry[] {
  const entries: RunEntry[] = [];
  for (const node of doc.nodes) {
    if (node.disabled) continue;
    const name = node.name || types.get(node.type)?.label || node.type;
    if (node.type === 'inject') entries.push({ kind: 'inject', node, label: `Inject "${name}"` });
    else if (node.type === 'webhook') {
      const { method, path } = webhookRoute(node);
      entries.push({ kind: 'webhook', node, label: `Webhook "${name}" (${method} ${webhookPath(path)})`, method, path });
    } else {
      const type = types.get(node.type);
      const eventDriven = NOT_MANUAL.has(node.type) || (type?.role !== undefined && EVENT_ROLE_KINDS.includes(type.role.kind));
      if (type?.category === 'trigger' && type.inputs === 0 && !eventDriven) entries.push({ kind: 'trigger', node, label: `${type.label} "${name}"` });
    }
  }
  // The runtime's own default is the first inject: offer that first.
  return entries.sort((a, b) => Number(b.kind === 'inject') - Number(a.kind === 'inject'));
}

/** The webhook node's method (upper case; ALL is called with POST) and its path below /webhook. */
export function webhookRoute(node: FlowNode): { method: string; path: string } {
  const props = (node.props ?? {}) as { method?: unknown; url?: unknown };
  const method = typeof props.method === 'string' ? props.method.toUpperCase() : 'POST';
  return { method, path: typeof props.url === 'string' ? props.url : '' };
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
