/**
 * Calls a node makes into other work of the runtime: a tool call (an AI agent running a tool-capable node type as
 * its own invocation of the run) and a sub-flow call (a run of another flow, answered by its subflow-out).
 */
import type { FlowMessage, NodeInstance, PortMessage, SubflowCallerRef, ToolCall, ToolDescription } from '@flowcrew/sdk';
import type { InvocationRecord } from '../storage/types.ts';
import { toolCallSteps } from '../steps/journal.ts';
import { bindingProblem } from './credential-binding.ts';
import type { Redactor } from './redaction.ts';
import { invoke } from './invoke.ts';
import { subflowEntryNode } from './roles.ts';
import { pendingInvocation } from './routing.ts';
import { NO_RETRY, addUsage, type ActiveRun, type DeployedNode, type ExecutorHub, type InvocationScope } from './types.ts';

export class ToolCalls {
  constructor(private readonly hub: ExecutorHub) {}

  listTools(): ToolDescription[] {
    return this.hub.options.registry
      .describe()
      .filter((t) => t.usableAsTool)
      .map((t) => ({ type: t.type, label: t.label, description: t.help.split('\n').find((line) => line.trim() && !line.startsWith('#'))?.trim() ?? t.label, parameters: t.props as Record<string, unknown> }));
  }

  /**
   * Run a tool-capable node type on behalf of `caller` (an AI agent). The call is its own invocation in the run
   * (parent: the caller's invocation), committed with the caller's completion.
   */
  async callTool(run: ActiveRun, caller: DeployedNode, callerInvocation: InvocationRecord, call: ToolCall, signal: AbortSignal, scope: InvocationScope): Promise<FlowMessage[]> {
    const options = this.hub.options;
    const deployer = this.hub.deployer;
    const definition = options.registry.get(call.type);
    if (!definition) throw new Error(`tool "${call.type}" is not an installed node type`);
    if (!definition.usableAsTool) throw new Error(`node type "${call.type}" is not usable as a tool`);
    if (signal.aborted) throw signal.reason as Error;
    const props = structuredClone(call.props ?? {});
    const problems = options.registry.checkProps(call.type, props);
    if (problems.length > 0) throw new Error(`tool "${call.type}" arguments are invalid: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`);
    const credentials = call.credentials ? await options.credentials(call.credentials) : undefined;
    if (call.credentials && !credentials) throw new Error(`tool "${call.type}": credential "${call.credentials}" does not exist`);
    if (call.credentials) {
      const info = await options.credentialInfo?.(call.credentials);
      const problem = info && bindingProblem(call.type, definition, info);
      if (problem) throw new Error(`tool "${call.type}": ${problem}`);
      run.flow.redactor.addCredential(credentials, definition.credentials?.schema);
    }
    const label = call.label ?? definition.label;
    const flowId = run.record.flowId;
    const log = this.hub.nodeLogger(flowId, caller.node.id, `${caller.label} → ${label}`, run.flow.redactor, run.record.id);
    const shared = await deployer.nodeShared(call.credentials, definition, run.flow.redactor);
    let instance: NodeInstance;
    try {
      instance = await definition.create({
        id: caller.node.id,
        name: label,
        flowId,
        props,
        credentials,
        credential: shared.credential,
        log,
        status: () => {},
        context: caller.context,
        flow: { id: flowId, nodes: [] },
        services: {
          ...this.hub.services(() => {
            throw new Error('a tool cannot register webhooks');
          }),
          resources: shared.resources,
        },
      });
    } catch (error) {
      deployer.releaseShared(shared, call.credentials, false);
      throw error;
    }
    const toolNode: DeployedNode = {
      ...caller,
      node: { id: caller.node.id, type: call.type },
      definition,
      instance,
      wires: [],
      retry: NO_RETRY,
      timeoutMs: definition.defaults?.timeoutMs ?? 0,
      label,
      credentials,
      ...shared,
      log,
    };
    const record: InvocationRecord = { ...pendingInvocation(run, toolNode, call.input ?? {}, callerInvocation.id), seq: 0, nodeType: call.type };
    if (call.step) toolCallSteps.set(record, call.step);
    const startedAt = Date.now();
    record.startedAt = startedAt;
    options.events.nodeStarted({ flowId, runId: run.record.id, nodeId: record.nodeId, invocationId: record.id, attempt: 1, input: record.input });
    const nested: InvocationScope = { usage: null, tools: [] };
    try {
      const outputs = await invoke(this.hub, run, toolNode, record, structuredClone(call.input ?? {}), 1, nested);
      Object.assign(record, { status: 'succeeded', attempt: 1, outputs, finishedAt: Date.now() });
      return outputs.map((o) => o.msg);
    } catch (error) {
      Object.assign(record, { status: 'failed', attempt: 1, outputs: [], error: (error as Error).message, finishedAt: Date.now() });
      throw error;
    } finally {
      scope.tools.push(record, ...nested.tools);
      if (nested.usage) scope.usage = addUsage(scope.usage, nested.usage);
      options.events.nodeFinished({
        flowId,
        runId: run.record.id,
        nodeId: record.nodeId,
        invocationId: record.id,
        attempt: 1,
        status: record.status === 'succeeded' ? 'succeeded' : 'failed',
        outputs: (record.outputs ?? []) as PortMessage[],
        error: record.error,
        durationMs: (record.finishedAt ?? Date.now()) - startedAt,
      });
      await Promise.allSettled([instance.stop?.(), instance.close?.()]);
      // A tool's instance lives for one call: its resources stay for the next call if it asked for an idle linger.
      deployer.releaseShared(shared, call.credentials, false);
    }
  }

  /** Sub-flow call: run `flowId` from its sub-flow entry and resolve with what its subflow-out replies. */
  async callFlow(flowId: string, msg: FlowMessage, options: { signal: AbortSignal; parentRunId: string; timeoutMs?: number; entryNodeId?: string; caller?: SubflowCallerRef }): Promise<FlowMessage> {
    const deployed = this.hub.deployed.get(flowId);
    if (!deployed) throw new Error(`sub-flow "${flowId}" is not deployed`);
    const entry = options.entryNodeId ? deployed.nodes.get(options.entryNodeId) : subflowEntryNode(deployed);
    if (!entry) throw new Error(options.entryNodeId ? `flow "${flowId}" has no node "${options.entryNodeId}" to call` : `flow "${flowId}" has no subflow-in node to call`);
    // The called flow reads its caller's variables (subflows/caller-env.ts): the caller's secrets are redacted there too.
    if (options.caller) absorbOnce(deployed.redactor, this.hub.deployed.get(options.caller.flowId)?.redactor);
    const { runId, reply } = await this.hub.admission.runNow(flowId, structuredClone(msg), {
      nodeId: entry.node.id,
      parentRunId: options.parentRunId,
      ...(options.caller ? { caller: { ...options.caller, runId: options.parentRunId } } : {}),
      awaitReply: true,
      replyTimeoutMs: options.timeoutMs ?? 60_000,
    });
    const onAbort = () => void this.hub.admission.cancel(runId);
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const answer = await reply!;
      return (answer.body ?? {}) as FlowMessage;
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
  }
}

/** Which callers' secrets a called flow's redactor already took (a caller's redactor is replaced at its redeploy). */
const absorbed = new WeakMap<Redactor, WeakSet<Redactor>>();
function absorbOnce(into: Redactor, from: Redactor | undefined): void {
  if (!from) return;
  let seen = absorbed.get(into);
  if (!seen) absorbed.set(into, (seen = new WeakSet()));
  if (seen.has(from)) return;
  seen.add(from);
  into.absorb(from);
}
