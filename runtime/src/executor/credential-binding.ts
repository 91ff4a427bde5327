/**
 * Credential binding: a credential goes only to the node types it was made for. A node type declares the one
 * credential type it takes (`definition.credentials.type`); a stored credential of another type (an `ai-model`
 * credential on http-request) is refused when the flow is saved and when it is deployed, with a pointer to the node.
 * Binding to hosts is the credential type's own rule (http-auth `allowedHosts`), enforced by the node that sends it.
 */
import type { NodeDefinition } from '@flowcrew/sdk';
import type { FlowDocument, FlowIssue } from '../flow/types.ts';

export interface CredentialInfo {
  id: string;
  name: string;
  type: string;
}

/** Why `credential` may not be attached to a node of `nodeType`, or null when it may. */
export function bindingProblem(nodeType: string, definition: Pick<NodeDefinition, 'credentials'> | undefined, credential: CredentialInfo): string | null {
  const wanted = definition?.credentials?.type;
  const which = credential.name && credential.name !== credential.id ? `credential "${credential.name}" (${credential.id})` : `credential "${credential.id}"`;
  if (!wanted) return `${which} cannot be attached: node type "${nodeType}" takes no credential`;
  if (credential.type !== wanted) return `${which} is of type "${credential.type}", but node type "${nodeType}" takes "${wanted}" credentials: attach a "${wanted}" credential`;
  return null;
}

/**
 * The credential ids a node's props name where its type declares more credentials (`credentials.inProps`, JSON
 * pointers with `*` for every array item), each with its pointer into the props.
 */
export function credentialRefsInProps(definition: Pick<NodeDefinition, 'credentials'> | undefined, props: unknown): Array<{ id: string; pointer: string }> {
  const refs: Array<{ id: string; pointer: string }> = [];
  const walk = (value: unknown, parts: string[], at: string): void => {
    if (parts.length === 0) {
      if (typeof value === 'string' && value) refs.push({ id: value, pointer: at });
      return;
    }
    if (!value || typeof value !== 'object') return;
    const [head, ...rest] = parts;
    const entries = head === '*' ? Object.entries(value) : head! in value ? [[head!, (value as Record<string, unknown>)[head!]] as const] : [];
    for (const [key, child] of entries) walk(child, rest, `${at}/${key}`);
  };
  for (const pattern of definition?.credentials?.inProps ?? []) walk(props, pattern.split('/').slice(1), '');
  return refs;
}

/**
 * Binding problems of a flow's nodes, each with a pointer to the node's `credentials`. A credential that does not
 * exist is not reported here (it may be created before the deploy, which refuses it then).
 */
export async function credentialBindingIssues(
  flow: Pick<FlowDocument, 'nodes'>,
  definitionOf: (type: string) => Pick<NodeDefinition, 'credentials'> | undefined,
  lookup: (id: string) => Promise<CredentialInfo | undefined>,
): Promise<FlowIssue[]> {
  const issues: FlowIssue[] = [];
  for (const [index, node] of flow.nodes.entries()) {
    const definition = definitionOf(node.type);
    // The node's own credential and those its props name (credentials.inProps) bind by the same rule.
    const refs = [...(node.credentials ? [{ id: node.credentials, pointer: `/nodes/${index}/credentials` }] : []), ...credentialRefsInProps(definition, node.props).map((r) => ({ id: r.id, pointer: `/nodes/${index}/props${r.pointer}` }))];
    for (const ref of refs) {
      const credential = await lookup(ref.id);
      if (!credential) continue;
      const problem = bindingProblem(node.type, definition, credential);
      if (problem) issues.push({ pointer: ref.pointer, message: problem, nodeId: node.id });
    }
  }
  return issues;
}
