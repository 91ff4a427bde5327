/**
 * What the palette leaves out in a library sub-flow's tab: nodes that start runs (a sub-flow only runs when a flow
 * calls it, through its entry) and the sub-flow's own node type (a sub-flow inside itself never ends).
 * Triggers are told by their declared role and shape, never by type name, so any pack's entry points count.
 */
import { EVENT_ROLE_KINDS } from '@flowcrew/sdk/roles';
import type { NodeTypeInfo } from '../../api/types';
import { SUBFLOW_TYPE_PREFIX } from './api';

/** Whether nodes of this type start runs themselves: a manual or HTTP entry, or a trigger with no input that no runtime event drives. */
export function startsRuns(type: NodeTypeInfo): boolean {
  const kind = type.role?.kind;
  if (kind === 'manual-entry' || kind === 'http-entry') return true;
  return type.category === 'trigger' && type.inputs === 0 && !(kind !== undefined && EVENT_ROLE_KINDS.includes(kind));
}

/** The palette's filter for the tab of library sub-flow `subflowId` (undefined for a flow's tab: nothing hidden). */
export function paletteHides(subflowId: string | undefined): ((type: NodeTypeInfo) => boolean) | undefined {
  if (subflowId === undefined) return undefined;
  return (type) => startsRuns(type) || type.type === `${SUBFLOW_TYPE_PREFIX}${subflowId}`;
}
