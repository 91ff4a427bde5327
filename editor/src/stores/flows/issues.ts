/** Problems of a flow located on its nodes, and the words the user reads when a save or deploy is refused. */
import type { ApiError } from '../../api/client';
import type { FlowDocument, Issue } from '../../api/types';
import { humanise } from '../../lib/schema';

/** A problem located on a node (or on the flow when nodeId is absent); `path` is relative to the node, e.g. '/props/url'. */
export interface NodeIssue {
  nodeId?: string;
  path: string;
  message: string;
  source: 'local' | 'server';
}

/** Map runtime issues (pointers into the document we sent) onto nodes and node-relative paths. */
export function issuesOnNodes(issues: readonly Issue[], sent: FlowDocument): NodeIssue[] {
  return issues.map((issue) => {
    const match = /^\/nodes\/(\d+)(\/.*)?$/.exec(issue.pointer);
    const nodeId = issue.nodeId ?? (match ? sent.nodes[Number(match[1])]?.id : undefined);
    const path = match ? (match[2] ?? '') : issue.pointer === '/' ? '' : issue.pointer;
    return { nodeId, path: nodeId ? path : issue.pointer, message: issue.message, source: 'server' as const };
  });
}

/** How a refusal reads: a title and the first problems, by node name and field label (never by id). */
export function refusalText(error: ApiError, sent: FlowDocument, what: 'save' | 'deploy', located: NodeIssue[]): { title: string; detail: string | undefined } {
  const where = new Set(located.map((i) => i.nodeId).filter(Boolean)).size;
  const nodeName = (id: string) => {
    const node = sent.nodes.find((n) => n.id === id);
    return node ? `"${node.name || node.type}"` : id;
  };
  const field = (path: string) => {
    const last = path.split('/').filter((segment) => segment && !/^\d+$/.test(segment)).pop();
    return last && last !== 'props' ? `${humanise(last)} ` : '';
  };
  const lines = located.slice(0, 3).map((i) => `${i.nodeId ? `${nodeName(i.nodeId)}: ` : ''}${field(i.path)}${i.message}`);
  if (located.length > 3) lines.push(`…and ${located.length - 3} more (marked on the nodes)`);
  const count = error.issues.length;
  return {
    title: `${what === 'deploy' ? 'Deploy' : 'Save'} refused: ${count} problem${count === 1 ? '' : 's'}${where ? ` on ${where} node${where === 1 ? '' : 's'}` : ''}`,
    detail: lines.join('\n') || error.problem.detail,
  };
}
