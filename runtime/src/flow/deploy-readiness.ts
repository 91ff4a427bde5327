/**
 * What keeps a saved flow from deploying that is known before any node is created: a node type that needs a
 * credential with none attached, a credential (the node's own or one its props name) that does not exist. Every such
 * node is reported together, each with its id, name and reason, so a user attaches everything in one pass; the
 * deployer (executor/deploy.ts) would stop at the first. Saving is not refused for these (the credential can be
 * created or attached later): validation lists them as warnings, deploy refuses with them.
 */
import type { NodeDefinition } from '@flowcrew/sdk';
import { credentialRefsInProps } from '../executor/credential-binding.ts';
import type { FlowDocument, FlowIssue } from './types.ts';

type Definitions = (type: string) => Pick<NodeDefinition, 'credentials'> | undefined;

/** `node "id"`, with its name when it has one: how a user finds it on the canvas. */
export function nodeLabel(node: { id: string; name?: string }): string {
  return node.name ? `node "${node.id}" ("${node.name}")` : `node "${node.id}"`;
}

/** Every deploy-blocking credential problem of the flow's enabled nodes, in node order; `exists` asks storage. */
export async function deployReadinessIssues(flow: Pick<FlowDocument, 'nodes'>, definitionOf: Definitions, exists: (credentialId: string) => Promise<boolean>): Promise<FlowIssue[]> {
  const issues: FlowIssue[] = [];
  const known = new Map<string, boolean>();
  const check = async (id: string) => {
    let found = known.get(id);
    if (found === undefined) known.set(id, (found = await exists(id)));
    return found;
  };
  for (const [index, node] of flow.nodes.entries()) {
    if (node.disabled) continue;
    const definition = definitionOf(node.type);
    if (!definition) continue; // an unknown type is a validation issue of its own
    const at = `/nodes/${index}`;
    const issue = (pointer: string, reason: string) => issues.push({ pointer: at + pointer, message: `${nodeLabel(node)}: ${reason}`, nodeId: node.id });
    if (node.credentials) {
      if (!(await check(node.credentials))) issue('/credentials', `credential "${node.credentials}" does not exist`);
    } else if (definition.credentials?.required) {
      issue('/credentials', `node type "${node.type}" needs a credential of type "${definition.credentials.type}": attach one`);
    }
    for (const ref of credentialRefsInProps(definition, node.props)) {
      if (!(await check(ref.id))) issue(`/props${ref.pointer}`, `credential "${ref.id}" (props${ref.pointer}) does not exist`);
    }
  }
  return issues;
}
