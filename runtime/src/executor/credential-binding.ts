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
    if (!node.credentials) continue;
    const credential = await lookup(node.credentials);
    if (!credential) continue;
    const problem = bindingProblem(node.type, definitionOf(node.type), credential);
    if (problem) issues.push({ pointer: `/nodes/${index}/credentials`, message: problem, nodeId: node.id });
  }
  return issues;
}
