/**
 * Where a finished invocation's messages go next: along the node's wires, to error handlers when it failed, and to
 * completion watchers when it succeeded. Pure functions over the run (they only take sequence numbers from it).
 */
import type { FlowMessage, PortMessage } from '@flowcrew/sdk';
import { invocationId } from '../storage/run-compact.ts';
import type { InvocationRecord } from '../storage/types.ts';
import { completionHandlersFor, errorHandlersFor } from './roles.ts';
import type { ActiveRun, DeployedNode } from './types.ts';

// An invocation's id is `<run id>.<seq>` (storage/run-compact.ts invocationId): a UUID per invocation cost ~0.5 µs
// and ~1 KB of garbage per hop, and the compact history leaves such ids out (bench/README.md, session 11). Unique
// because resume and takeover go on after the highest stored seq, and tools.ts renumbers a tool call's seq after its
// id was made from numbers not handed out yet.
export { invocationId };

export function pendingInvocation(run: ActiveRun, target: DeployedNode, msg: FlowMessage, parentId: string | null): InvocationRecord {
  const seq = run.seq++;
  return {
    id: invocationId(run.record.id, seq),
    runId: run.record.id,
    nodeId: target.node.id,
    nodeType: target.node.type,
    status: 'pending',
    attempt: 0,
    input: msg,
    outputs: null,
    error: null,
    parentId,
    seq,
    createdAt: Date.now(),
    startedAt: null,
    finishedAt: null,
  };
}

/** The invocations a node's outputs produce: one per wired target, cloning only when a message fans out. */
export function nextInvocations(run: ActiveRun, source: DeployedNode | undefined, parentId: string, outputs: PortMessage[]): InvocationRecord[] {
  if (!source) return [];
  const next: InvocationRecord[] = [];
  for (const { port, msg } of outputs) {
    const wires = source.wires[port];
    if (!wires) continue;
    let sent = false;
    for (const id of wires) {
      const target = run.flow.nodes.get(id);
      if (target === undefined) continue;
      next.push(pendingInvocation(run, target, sent ? structuredClone(msg) : msg, parentId));
      sent = true;
    }
  }
  return next;
}

/** Error routing: handlers whose scope covers the failed node get the message with `msg.error`. */
export function routeToErrorHandlers(run: ActiveRun, failed: DeployedNode | undefined, invocation: InvocationRecord, msg: FlowMessage, error: Error): InvocationRecord[] {
  // A message already carrying a caught error is not caught again: that would loop.
  if (msg && typeof msg === 'object' && 'error' in msg && (msg as { _caught?: boolean })._caught) return [];
  const catchers = errorHandlersFor(run.flow, invocation.nodeId);
  if (catchers.length === 0) return [];
  const errorMsg: FlowMessage = {
    ...(msg ?? {}),
    _caught: true,
    error: { message: error.message, source: { id: invocation.nodeId, type: invocation.nodeType, name: failed?.node.name ?? '' } },
  };
  return catchers.map((c, i) => pendingInvocation(run, c, i === 0 ? errorMsg : structuredClone(errorMsg), invocation.id));
}

/**
 * Node-RED's complete nodes: a copy of the message a node in their scope finished, with msg.complete.source. Node-RED
 * copies the message object as it is when the node is done: a node that sent one message sent that object (changed),
 * so that is the copy; otherwise the input. Source names are the node's name ('' when unnamed), as in Node-RED.
 */
export function routeToCompletionHandlers(run: ActiveRun, done: DeployedNode | undefined, invocation: InvocationRecord, input: FlowMessage, outputs: PortMessage[] = []): InvocationRecord[] {
  if (run.flow.roles.completionHandlers.length === 0) return [];
  const watching = completionHandlersFor(run.flow, invocation.nodeId);
  const msg = outputs.length === 1 ? outputs[0]!.msg : input;
  const source = { id: invocation.nodeId, type: invocation.nodeType, name: done?.node.name ?? '' };
  return watching.map((c) => pendingInvocation(run, c, { ...structuredClone(msg ?? {}), complete: { source } }, invocation.id));
}
