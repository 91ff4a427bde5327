/**
 * Node-RED's debug button, by role: a node type whose role is `debug-output` (any pack's) gets an on/off toggle on
 * the canvas that flips the boolean prop the role names. An edit of the flow: the running flow follows at the next deploy.
 */
import type { FlowNode, NodeTypeInfo } from '../api/types';

/** The prop that switches the node's debug output on and off, or undefined when its type has no such role. */
export function debugActiveProp(type: NodeTypeInfo | undefined): string | undefined {
  const role = type?.role;
  return role?.kind === 'debug-output' ? role.activeProp : undefined;
}

/** What the toggle shows: on unless the prop is false; null when the node gets no toggle. */
export function debugToggleState(node: FlowNode, type: NodeTypeInfo | undefined): boolean | null {
  const prop = debugActiveProp(type);
  return prop === undefined ? null : node.props?.[prop] !== false;
}

/** The node's props after a click on its toggle (unchanged when its type has no toggle). */
export function toggledDebugProps(node: FlowNode, type: NodeTypeInfo | undefined): FlowNode['props'] {
  const prop = debugActiveProp(type);
  if (prop === undefined) return node.props;
  return { ...node.props, [prop]: node.props?.[prop] === false };
}
