/**
 * Where a status reported outside any run inside a library sub-flow goes up (a connection, a timer): Node-RED runs a
 * copy of the subflow per instance, so each instance passes its inner statuses up; here one hidden flow serves every
 * instance, so the status goes up to each deployed node that calls this version.
 */
import type { FlowDocument } from '../flow/types.ts';
import { hiddenFlowId, subflowIdOfType } from './definition.ts';

/** The deployed nodes that call hidden flow `flowId` (library sub-flow nodes pinned to its version), in any flow. */
export function nodesCalling(flowId: string, deployed: Iterable<{ flow: Pick<FlowDocument, 'id' | 'nodes'> }>): Array<{ flowId: string; nodeId: string }> {
  const found: Array<{ flowId: string; nodeId: string }> = [];
  for (const { flow } of deployed) {
    for (const node of flow.nodes) {
      const id = !node.disabled && subflowIdOfType(node.type);
      if (id && hiddenFlowId(id, Number(node.props?.version)) === flowId) found.push({ flowId: flow.id, nodeId: node.id });
    }
  }
  return found;
}
