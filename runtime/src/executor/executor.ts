/**
 * The executor: deploys flows (nodes created once, triggers started), turns trigger events into durable runs,
 * and moves messages along wires node by node.
 *
 * Durability: a run and its first pending invocations are committed before a trigger is acknowledged; each
 * finished invocation is committed together with the invocations it produced (one transaction, group
 * committed) before those are dispatched. After a crash, `resume()` re-dispatches exactly the invocations
 * that never completed.
 */
// Time-ordered ids (UUIDv7): new runs and invocations append to the primary-key index instead of landing on
// random pages, which keeps inserts fast as history grows.
import { v7 as randomUUID } from 'uuid';
import {
  normaliseOutput,
  type EmitOptions,
  type EmitResult,
  type FlowMessage,
  type InputContext,
  type Logger,
  type DeclaredMcpServers,
  type ModelUsage,
  type NodeDefinition,
  type NodeInstance,
  type NodeStatus,
  type OutboundServices,
  type PortMessage,
  type RetryPolicy,
  type RuntimeServices,
  type ToolCall,
  type ToolDescription,
  type TriggerReply,
} from '@flowcrew/sdk';
import type { FlowDocument, FlowNode } from '../flow/types.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import { UnstorableMessageError, type InvocationRecord, type RetentionPolicy, type RunRecord, type RunStatus, type Storage } from '../storage/types.ts';
import { NODES_PER_TURN, yieldToEventLoop } from '../flow/event-loop.ts';
import { DEFAULT_MAX_DEPTH } from '../flow/json-depth.ts';
import { ContextRegistry } from './context.ts';
import { createNodeLogger } from './node-logger.ts';
import { withFields } from '../logging/logger.ts';
import type { NodeLimits } from '../config.ts';
import type { ExecutionEvents } from './events.ts';
import { createOutboundGuard } from '../outbound/index.ts';
import { bindingProblem, type CredentialInfo } from './credential-binding.ts';
import { redactedLogger, redactingEvents, Redactor } from './redaction.ts';
import type { LiveCredential, ResourceScope } from '@flowcrew/sdk/host';
import { NodeServicesHost } from './node-services.ts';

export interface ExecutorOptions {
  storage: Storage;
  registry: NodeRegistry;
  events: ExecutionEvents;
  log: Logger;
  retention: RetentionPolicy;
  /** Resolves a node's credentials reference to decrypted fields. */
  credentials(id: string): Promise<Record<string, unknown> | undefined>;
  /** Handed to nodes (RuntimeServices.dataDir). */
  dataDir: string;
  /** The HTTP side of `registerWebhook` (the API layer owns the router). */
  registerWebhook: RuntimeServices['registerWebhook'];
  /**
   * An invocation interrupted this many times by the runtime dying while it ran is failed at resume instead of run
   * again (it may be what kills the runtime). Default 3.
   */
  maxInterruptions?: number;
  /** FLOWCREW_MAX_DEPTH, for error messages (storage enforces it); default 128. */
  maxDepth?: number;
  /** Context size caps and node log limits (defaults when absent). */
  nodeLimits?: NodeLimits;
  /** A stored credential's name and type, for binding checks (a credential only goes to node types of its type). */
  credentialInfo?(id: string): Promise<CredentialInfo | undefined>;
  /** The outbound guard handed to nodes (RuntimeServices.outbound); default: one with an empty allow-list. */
  outbound?: OutboundServices;
  /** Administrator-declared MCP servers (RuntimeServices.mcpServers); default: none. */
  mcpServers?: DeclaredMcpServers;
  /** The runtime's own database (RuntimeServices.database); default SQLite. */
  database?: RuntimeServices['database'];
  /** Live credentials, pooled resources and blobs shared by nodes; default: one built from these options. */
  nodeServices?: NodeServicesHost;
}

const NO_MCP_SERVERS: DeclaredMcpServers = {
  names: () => [],
  resolve: (name) => Promise.reject(new Error(`MCP server "${name}" is not declared (an administrator declares MCP servers in the file FLOWCREW_MCP_SERVERS names; none are)`)),
};

interface DeployedNode {
  node: FlowNode;
  definition: NodeDefinition;
  instance: NodeInstance;
  wires: string[][];
  retry: RetryPolicy;
  timeoutMs: number;
  label: string;
  credentials: Record<string, unknown> | undefined;
  /** The live credential (fields follow edits without a redeploy). */
  credential?: LiveCredential;
  /** The resources this node holds, released when it is closed. */
  resources?: ResourceScope;
  /** Stops following the credential's edits (redaction of new secret values). */
  unwatch?: () => void;
  context: InputContext['context'];
  log: Logger;
  status: InputContext['status'];
}

interface DeployedFlow {
  flow: FlowDocument;
  nodes: Map<string, DeployedNode>;
  catchNodes: DeployedNode[];
  /** Complete nodes (a copy of each message a node in their scope finished) and status nodes (its status changes). */
  completeNodes: DeployedNode[];
  statusNodes: DeployedNode[];
  /** Runs executing now, for the concurrency limit. */
  running: number;
  /** Runs accepted while the flow was at its limit, oldest first. */
  queued: ActiveRun[];
  /** Secrets of the credentials the flow uses, redacted from everything stored, sent live or logged (inactive without credentials). */
  redactor: Redactor;
}

interface ActiveRun {
  record: RunRecord;
  flow: DeployedFlow;
  /** Invocations dispatched or waiting to be, not yet committed as finished. */
  outstanding: number;
  seq: number;
  abort: AbortController;
  /** First uncaught error; the run ends failed once its other branches finish. */
  failure: string | null;
  /** Invocations sleeping in a retry backoff. */
  backingOff: number;
  pending: InvocationRecord[];
  reply?: { resolve(reply: TriggerReply): void; reject(error: Error): void; settled: boolean; timer?: NodeJS.Timeout };
}

/** A run cannot start: the flow is not deployed, or it has no such entry node. */
export class CannotStartRunError extends Error {}

export class DeployError extends Error {
  constructor(
    message: string,
    readonly nodeId?: string,
  ) {
    super(message);
  }
}

const NO_RETRY: RetryPolicy = { maxAttempts: 1, backoffMs: 0 };

const DEFAULT_MAX_INTERRUPTIONS = 3;

/** Above this many queued completion commits, a finished node waits for its own commit before the next dispatch. */
const MAX_UNCOMMITTED = 5_000;

/** What one invocation accumulates besides its outputs: model usage and the tool calls it made. */
interface InvocationScope {
  usage: ModelUsage | null;
  /** Finished tool-call invocations, committed together with the caller's completion. */
  tools: InvocationRecord[];
}

function addUsage(total: ModelUsage | null, more: ModelUsage): ModelUsage {
  if (!total) return { ...more };
  const sum = (a?: number, b?: number) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
  return {
    model: more.model ?? total.model,
    promptTokens: sum(total.promptTokens, more.promptTokens),
    completionTokens: sum(total.completionTokens, more.completionTokens),
    costUsd: sum(total.costUsd, more.costUsd),
  };
}

export class Executor {
  private readonly deployed = new Map<string, DeployedFlow>();
  private readonly active = new Map<string, ActiveRun>();
  private readonly contexts: ContextRegistry;
  private closing = false;
  /** Completion commits queued but not yet committed (see MAX_UNCOMMITTED). */
  private uncommitted = 0;
  /** Started runs whose interruption resume() is counting, until they are active: a clean stop takes it back. */
  private resuming: string[] = [];

  private readonly outbound: OutboundServices;
  /** Live credentials, resource pools and blobs of this runtime. */
  readonly nodeServices: NodeServicesHost;

  constructor(readonly options: ExecutorOptions) {
    // Everything reported about a flow passes its redactor first (a no-op for flows without credentials).
    this.options = { ...options, events: redactingEvents(options.events, (flowId) => this.deployed.get(flowId)?.redactor) };
    this.outbound = options.outbound ?? createOutboundGuard();
    this.nodeServices =
      options.nodeServices ?? new NodeServicesHost({ storage: options.storage, log: options.log, dataDir: options.dataDir, resolve: options.credentials, database: options.database });
    this.contexts = new ContextRegistry(options.storage, options.log, options.nodeLimits);
  }

  isDeployed(flowId: string): boolean {
    return this.deployed.has(flowId);
  }

  /** Number of deployed flows, for the dashboard. */
  get deployedFlows(): number {
    return this.deployed.size;
  }

  /** Number of runs in memory (running or queued), for health and metrics. */
  get activeRuns(): number {
    return this.active.size;
  }

  /**
   * Deploy (or redeploy) a validated flow: create every node, then start its triggers. If any node fails to
   * create, nothing of the new version stays and the previous version keeps running.
   */
  async deploy(flow: FlowDocument): Promise<void> {
    const services = this.services((route) => this.options.registerWebhook(route));
    const redactor = new Redactor();
    const global = await this.contexts.get('global');
    const flowContext = await this.contexts.get(`flow:${flow.id}`);
    const flowNodes = flow.nodes.map((n) => ({ id: n.id, type: n.type, name: n.name ?? '', props: n.props ?? {} }));
    const created: DeployedNode[] = [];
    try {
      let count = 0;
      for (const node of flow.nodes) {
        // A flow of thousands of nodes must not hold the event loop (health checks, other flows) for its whole deploy.
        if (++count % NODES_PER_TURN === 0) await yieldToEventLoop();
        if (node.disabled) continue;
        const definition = this.options.registry.get(node.type);
        if (!definition) throw new DeployError(`node "${node.id}": unknown node type "${node.type}"`, node.id);
        const label = node.name || definition.label;
        const log = this.nodeLogger(flow.id, node.id, label, redactor);
        const status: InputContext['status'] = (s) => {
          this.options.events.status({ flowId: flow.id, nodeId: node.id, status: s });
          this.routeStatus(flow.id, node.id, node.type, label, s);
        };
        let credentials: Record<string, unknown> | undefined;
        if (node.credentials) {
          credentials = await this.options.credentials(node.credentials);
          if (!credentials) throw new DeployError(`node "${node.id}": credential "${node.credentials}" does not exist`, node.id);
          const info = await this.options.credentialInfo?.(node.credentials);
          const problem = info && bindingProblem(node.type, definition, info);
          if (problem) throw new DeployError(`node "${node.id}": ${problem}`, node.id);
          redactor.addCredential(credentials, definition.credentials?.schema);
        } else if (definition.credentials?.required) {
          throw new DeployError(`node "${node.id}": node type "${node.type}" needs a credential of type "${definition.credentials.type}"`, node.id);
        }
        const context = { flow: flowContext, global, node: await this.contexts.get(`node:${flow.id}:${node.id}`) };
        const shared = await this.nodeShared(node.credentials, definition, redactor);
        let instance: NodeInstance;
        try {
          instance = await definition.create({
            id: node.id,
            name: label,
            flowId: flow.id,
            props: node.props ?? {},
            credentials,
            credential: shared.credential,
            log,
            status,
            context,
            flow: { id: flow.id, nodes: flowNodes },
            services: { ...services, resources: shared.resources },
          });
        } catch (error) {
          this.releaseShared(shared, node.credentials, true);
          throw new DeployError(`node "${node.id}" (${node.type}): ${(error as Error).message}`, node.id);
        }
        created.push({
          node,
          definition,
          instance,
          wires: node.wires ?? [],
          retry: node.retry ?? definition.defaults?.retry ?? NO_RETRY,
          timeoutMs: node.timeoutMs ?? definition.defaults?.timeoutMs ?? flow.settings?.nodeTimeoutMs ?? 0,
          label,
          credentials,
          ...shared,
          context,
          log,
          status,
        });
      }
    } catch (error) {
      await this.closeNodes(created, true);
      throw error;
    }

    const previous = this.deployed.get(flow.id);
    redactor.absorb(previous?.redactor);
    if (previous) await this.stopTriggers(previous);
    const nodes = new Map(created.map((d) => [d.node.id, d]));
    const deployed: DeployedFlow = {
      flow,
      nodes,
      catchNodes: created.filter((d) => d.node.type === 'catch'),
      completeNodes: created.filter((d) => d.node.type === 'complete'),
      statusNodes: created.filter((d) => d.node.type === 'status'),
      running: previous?.running ?? 0,
      queued: previous?.queued ?? [],
      redactor,
    };
    this.deployed.set(flow.id, deployed);
    // Runs in flight keep their node instances' new versions: a run addresses nodes by id.
    for (const run of this.active.values()) if (run.flow === previous) run.flow = deployed;
    // Not closeNow: a resource the new version uses too stays open for it (when its holder asked for an idle linger).
    if (previous) await this.closeNodes([...previous.nodes.values()], false);
    await this.startTriggers(deployed);
  }

  /** Stop a flow. Its runs still in flight are cancelled: their nodes are about to be closed. */
  async undeploy(flowId: string): Promise<void> {
    const deployed = this.deployed.get(flowId);
    if (!deployed) return;
    // From here on, resources its nodes are the last to hold close as they are released (no idle linger).
    for (const d of deployed.nodes.values()) d.resources?.undeploy();
    await this.stopTriggers(deployed);
    this.deployed.delete(flowId);
    for (const run of [...this.active.values()]) if (run.flow === deployed) await this.cancel(run.record.id);
    await this.closeNodes([...deployed.nodes.values()], true);
  }

  /** A node's live credential and resource scope (see node-services.ts); its secrets follow credential edits. */
  private async nodeShared(
    credentialId: string | undefined,
    definition: NodeDefinition,
    redactor: Redactor,
  ): Promise<{ credential?: LiveCredential; resources: ResourceScope; unwatch?: () => void }> {
    const resources = this.nodeServices.pools.scope();
    if (!credentialId) return { resources };
    const credential = await this.nodeServices.hold(credentialId, definition.credentials?.type ?? 'unknown');
    // New secret values are redacted from the moment nodes can use them.
    const unwatch = credential?.onChange((changed) => redactor.addCredential(changed.fields, definition.credentials?.schema));
    return { credential, resources, unwatch };
  }

  private releaseShared(shared: { credential?: LiveCredential; resources?: ResourceScope; unwatch?: () => void }, credentialId: string | undefined, closeNow: boolean): void {
    shared.unwatch?.();
    shared.resources?.releaseAll({ closeNow });
    if (credentialId && shared.credential) this.nodeServices.unhold(credentialId);
  }

  /** Close node instances, then release what they still hold (`closeNow`: undeploy, their resources close at once). */
  private async closeNodes(nodes: DeployedNode[], closeNow: boolean): Promise<void> {
    if (closeNow) for (const d of nodes) d.resources?.undeploy();
    await Promise.allSettled(nodes.map((d) => d.instance.close?.()));
    for (const d of nodes) this.releaseShared(d, d.node.credentials, closeNow);
  }

  /**
   * A stored credential was changed (or deleted) by this runtime: running nodes get the new fields and revision at
   * once, and resources opened with the old ones are closed. Changes made elsewhere are found by polling.
   */
  async credentialChanged(id: string): Promise<boolean> {
    return this.nodeServices.credentialChanged(id);
  }

  private async startTriggers(deployed: DeployedFlow): Promise<void> {
    for (const d of deployed.nodes.values()) {
      if (!d.instance.start) continue;
      const flowId = deployed.flow.id;
      try {
        await d.instance.start({
          emit: (msg, options) => this.emitFromTrigger(flowId, d.node.id, msg, options),
          log: this.nodeLogger(flowId, d.node.id, d.label, deployed.redactor),
          status: d.status,
        });
      } catch (error) {
        await this.stopTriggers(deployed);
        throw new DeployError(`node "${d.node.id}" (${d.node.type}) could not start: ${(error as Error).message}`, d.node.id);
      }
    }
  }

  private async stopTriggers(deployed: DeployedFlow): Promise<void> {
    await Promise.allSettled([...deployed.nodes.values()].map((d) => d.instance.stop?.()));
  }

  /** A trigger produced `msg` on its port 0 (or options.port): record the trigger's invocation as done and start the run. */
  private emitFromTrigger(flowId: string, nodeId: string, msg: FlowMessage, options?: EmitOptions): Promise<EmitResult> {
    const deployed = this.deployed.get(flowId);
    if (!deployed) return Promise.reject(new Error(`flow "${flowId}" is not deployed`));
    msg._msgid ??= randomUUID();
    const now = Date.now();
    const run = this.newRun(deployed, nodeId, msg, null, now);
    const triggerInvocation: InvocationRecord = {
      id: randomUUID(),
      runId: run.record.id,
      nodeId,
      nodeType: deployed.nodes.get(nodeId)?.node.type ?? 'unknown',
      status: 'succeeded',
      attempt: 1,
      input: null,
      outputs: [{ port: options?.port ?? 0, msg }],
      error: null,
      parentId: null,
      seq: run.seq++,
      createdAt: now,
      startedAt: now,
      finishedAt: now,
    };
    const first = [triggerInvocation, ...this.nextInvocations(run, deployed.nodes.get(nodeId), triggerInvocation.id, triggerInvocation.outputs as PortMessage[])];
    const accepted = this.accept(run, first, options);
    // The trigger's own step is done already: tell live listeners, so the editor shows the trigger fire too.
    this.options.events.nodeFinished({ flowId, runId: run.record.id, nodeId, invocationId: triggerInvocation.id, attempt: 1, status: 'succeeded', outputs: triggerInvocation.outputs as PortMessage[], error: null, durationMs: 0 });
    return accepted;
  }

  /**
   * Start a new run with a past run's input, the way it started: through the trigger's onInput when the trigger
   * has one (inject, cron, manual), else as the trigger's output (webhook, queue).
   */
  async rerun(past: RunRecord): Promise<EmitResult> {
    const deployed = this.deployed.get(past.flowId);
    if (!deployed) throw new CannotStartRunError(`flow "${past.flowId}" is not deployed`);
    const input = structuredClone((past.input ?? {}) as FlowMessage);
    delete input._msgid;
    const trigger = past.triggerNodeId ? deployed.nodes.get(past.triggerNodeId) : undefined;
    if (past.triggerNodeId && !trigger) throw new CannotStartRunError(`node "${past.triggerNodeId}" that started run ${past.id} is no longer in the deployed flow`);
    if (!trigger || trigger.instance.onInput) return this.runNow(past.flowId, input, { nodeId: trigger?.node.id });
    return this.emitFromTrigger(past.flowId, trigger.node.id, input);
  }

  /**
   * Start a run by delivering `input` to a trigger node's own `onInput` (manual "run now", sub-flow calls).
   * With no `nodeId`, the flow's first inject / manual trigger is used.
   */
  async runNow(flowId: string, input: FlowMessage, options: EmitOptions & { nodeId?: string; parentRunId?: string } = {}): Promise<EmitResult> {
    const deployed = this.deployed.get(flowId);
    if (!deployed) throw new CannotStartRunError(`flow "${flowId}" is not deployed`);
    const entry = options.nodeId ? deployed.nodes.get(options.nodeId) : this.defaultEntryNode(deployed);
    if (!entry) {
      throw new CannotStartRunError(
        options.nodeId ? `flow "${flowId}" has no node "${options.nodeId}"` : `flow "${flowId}" has no manual trigger (inject) node to start a run at; pass nodeId`,
      );
    }
    const msg = { ...input };
    msg._msgid ??= randomUUID();
    const run = this.newRun(deployed, entry.node.id, msg, options.parentRunId ?? null, Date.now());
    return this.accept(run, [this.pendingInvocation(run, entry, msg, null)], options);
  }

  private defaultEntryNode(deployed: DeployedFlow): DeployedNode | undefined {
    const nodes = [...deployed.nodes.values()];
    return (
      nodes.find((d) => d.node.type === 'inject') ??
      nodes.find((d) => d.definition.inputs === 0 && d.definition.category === 'trigger' && d.instance.onInput && d.node.type !== 'catch')
    );
  }

  private newRun(deployed: DeployedFlow, triggerNodeId: string, input: FlowMessage, parentRunId: string | null, now: number): ActiveRun {
    const limit = deployed.flow.settings?.concurrency ?? 0;
    const startNow = limit === 0 || deployed.running < limit;
    const status: RunStatus = startNow ? 'running' : 'queued';
    return {
      record: {
        id: randomUUID(),
        flowId: deployed.flow.id,
        flowVersion: deployed.flow.version,
        status,
        triggerNodeId,
        input,
        error: null,
        parentRunId,
        createdAt: now,
        startedAt: startNow ? now : null,
        finishedAt: null,
      },
      flow: deployed,
      outstanding: 0,
      seq: 0,
      abort: new AbortController(),
      failure: null,
      backingOff: 0,
      pending: [],
    };
  }

  /**
   * Accept a run: its record and first invocations are queued for commit and the run starts at once, but the
   * trigger is acknowledged (this promise, and any reply) only after that commit. Every later write of the run is
   * queued behind it on the single writer, so nothing of the run can be stored without its acceptance.
   */
  private async accept(run: ActiveRun, first: InvocationRecord[], options?: EmitOptions): Promise<EmitResult> {
    const accepted = this.options.storage.acceptRun(run.flow.redactor.run(run.record), run.flow.redactor.records(first));
    const running = run.record.status === 'running';
    if (running) run.flow.running++;
    this.active.set(run.record.id, run);
    let reply: Promise<TriggerReply> | undefined;
    if (options?.awaitReply) reply = this.waitForReply(run, options.replyTimeoutMs ?? 30_000);
    run.pending = first.filter((inv) => inv.status === 'pending');
    if (running) this.begin(run);
    else run.flow.queued.push(run);
    try {
      await accepted;
    } catch (error) {
      this.dropRun(run, error as Error, 'the run could not be stored');
      throw error;
    }
    return { runId: run.record.id, reply };
  }

  /** Stop a run in this process after a storage failure; what storage holds of it resumes at the next start. */
  private dropRun(run: ActiveRun, error: Error, reason: string): void {
    if (run.abort.signal.aborted) return; // cancelled or already dropped: settled there
    this.runLog(run).error(`run ${run.record.id}: ${reason}: ${error.message}`);
    run.abort.abort(error);
    this.active.delete(run.record.id);
    this.settleReply(run, new Error(reason));
    const queuedAt = run.flow.queued.indexOf(run);
    if (queuedAt >= 0) run.flow.queued.splice(queuedAt, 1);
    else this.releaseSlot(run.flow);
  }

  private waitForReply(run: ActiveRun, timeoutMs: number): Promise<TriggerReply> {
    const reply = new Promise<TriggerReply>((resolve, reject) => {
      const waiter: NonNullable<ActiveRun['reply']> = { resolve, reject, settled: false };
      waiter.timer = setTimeout(() => this.settleReply(run, new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
      waiter.timer.unref();
      run.reply = waiter;
    });
    // The trigger awaits the reply only after acceptance; a run that fails sooner must not count as unhandled.
    reply.catch(() => {});
    return reply;
  }

  /** @internal used by NodeInputContext */
  settleReply(run: ActiveRun, outcome: TriggerReply | Error): void {
    const waiter = run.reply;
    if (!waiter || waiter.settled) return;
    waiter.settled = true;
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }

  private begin(run: ActiveRun): void {
    this.options.events.runStarted(run.record);
    const pending = run.pending;
    run.pending = [];
    run.outstanding += pending.length;
    if (pending.length === 0) {
      void this.finishRun(run);
      return;
    }
    for (const invocation of pending) void this.dispatch(run, invocation);
  }

  /** Re-dispatch every run that was accepted but not finished when the process last stopped. */
  async resume(): Promise<number> {
    const resumable = await this.options.storage.listResumableRuns();
    // Every pending invocation of a started run was in flight when the process stopped. Count that interruption
    // durably BEFORE running anything again: if this start dies on the same message, the next one knows, and once an
    // invocation has been interrupted maxInterruptions times dispatch fails it instead (a poison message).
    const counted: string[] = [];
    for (const { run, pending } of resumable) {
      if (run.status === 'queued') continue; // never started: nothing of it was running
      this.resuming.push(run.id);
      for (const invocation of pending) {
        invocation.interruptions = (invocation.interruptions ?? 0) + 1;
        counted.push(invocation.id);
      }
    }
    await this.options.storage.recordInterruptions(counted);
    // Shut down meanwhile: close() has taken back the interruptions just counted; nothing is run.
    if (this.closing) return resumable.length;
    for (const { run: record, pending, maxSeq } of resumable) {
      const deployed = this.deployed.get(record.flowId);
      if (!deployed) {
        await this.options.storage.updateRun({ id: record.id, status: 'failed', error: `flow "${record.flowId}" is no longer deployed`, finishedAt: Date.now() });
        continue;
      }
      const limit = deployed.flow.settings?.concurrency ?? 0;
      const startNow = record.status !== 'queued' || limit === 0 || deployed.running < limit;
      const run: ActiveRun = {
        record: { ...record, status: startNow ? 'running' : 'queued' },
        flow: deployed,
        outstanding: 0,
        seq: maxSeq + 1,
        abort: new AbortController(),
        failure: null,
        backingOff: 0,
        pending,
      };
      this.active.set(record.id, run);
      if (startNow) {
        deployed.running++;
        if (record.status === 'queued') {
          run.record.startedAt = Date.now();
          await this.options.storage.updateRun({ id: record.id, status: 'running', startedAt: run.record.startedAt });
        }
        this.begin(run);
      } else deployed.queued.push(run);
    }
    this.resuming = [];
    return resumable.length;
  }

  async cancel(runId: string): Promise<RunRecord | null> {
    const run = this.active.get(runId);
    if (!run) return null;
    run.abort.abort(new Error('run cancelled'));
    const now = Date.now();
    const wasRunning = run.record.status !== 'queued';
    run.record.status = 'cancelled';
    run.record.finishedAt = now;
    this.active.delete(runId);
    const queuedAt = run.flow.queued.indexOf(run);
    if (queuedAt >= 0) run.flow.queued.splice(queuedAt, 1);
    await this.options.storage.cancelRun(runId, now);
    this.settleReply(run, new Error('run cancelled'));
    this.options.events.runFinished(run.record);
    if (wasRunning) this.releaseSlot(run.flow);
    return run.record;
  }

  /**
   * A run is 'waiting' while every one of its outstanding invocations sleeps in a retry backoff, and 'running'
   * again when one wakes. Rare (failure path only), so the extra writes cost nothing on the hot path.
   */
  private setWaiting(run: ActiveRun, delta: 1 | -1): void {
    run.backingOff += delta;
    const status: RunStatus = run.backingOff > 0 && run.backingOff >= run.outstanding ? 'waiting' : 'running';
    if (run.abort.signal.aborted || run.record.status === status) return;
    run.record.status = status;
    this.options.storage.updateRun({ id: run.record.id, status }).catch((e: unknown) => this.runLog(run).warn(`run ${run.record.id}: could not record status ${status}: ${(e as Error).message}`));
  }

  private releaseSlot(flow: DeployedFlow): void {
    flow.running--;
    const next = flow.queued.shift();
    if (!next) return;
    flow.running++;
    next.record.status = 'running';
    next.record.startedAt = Date.now();
    this.options.storage
      .updateRun({ id: next.record.id, status: 'running', startedAt: next.record.startedAt })
      .then(() => this.begin(next))
      .catch((error: unknown) => this.runLog(next).error(`could not start queued run ${next.record.id}: ${(error as Error).message}`));
  }

  private pendingInvocation(run: ActiveRun, target: DeployedNode, msg: FlowMessage, parentId: string | null): InvocationRecord {
    return {
      id: randomUUID(),
      runId: run.record.id,
      nodeId: target.node.id,
      nodeType: target.node.type,
      status: 'pending',
      attempt: 0,
      input: msg,
      outputs: null,
      error: null,
      parentId,
      seq: run.seq++,
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
    };
  }

  /** The invocations a node's outputs produce: one per wired target, cloning only when a message fans out. */
  private nextInvocations(run: ActiveRun, source: DeployedNode | undefined, parentId: string, outputs: PortMessage[]): InvocationRecord[] {
    if (!source) return [];
    const next: InvocationRecord[] = [];
    for (const { port, msg } of outputs) {
      const targets = (source.wires[port] ?? []).map((id) => run.flow.nodes.get(id)).filter((t): t is DeployedNode => t !== undefined);
      targets.forEach((target, i) => next.push(this.pendingInvocation(run, target, i === 0 ? msg : structuredClone(msg), parentId)));
    }
    return next;
  }

  private async dispatch(run: ActiveRun, invocation: InvocationRecord): Promise<void> {
    const deployedNode = run.flow.nodes.get(invocation.nodeId);
    const startedAt = Date.now();
    let outputs: PortMessage[] = [];
    let error: Error | null = null;
    let attempt = invocation.attempt;
    const msg = invocation.input as FlowMessage;
    let scope: InvocationScope = { usage: null, tools: [] };

    if (!deployedNode) {
      error = new Error(`node "${invocation.nodeId}" is not in the deployed flow (it was removed or disabled)`);
    } else if ((invocation.interruptions ?? 0) >= (this.options.maxInterruptions ?? DEFAULT_MAX_INTERRUPTIONS)) {
      error = new Error(`interrupted ${invocation.interruptions} times (the runtime stopped while it ran); not retried again: it may crash the runtime`);
    } else {
      const policy = deployedNode.retry;
      for (;;) {
        attempt++;
        if (run.abort.signal.aborted) break;
        this.options.events.nodeStarted({ flowId: run.record.flowId, runId: run.record.id, nodeId: invocation.nodeId, invocationId: invocation.id, attempt, input: msg });
        try {
          // Each attempt gets the message as it was stored: a failed attempt may have mutated it.
          const input = attempt > invocation.attempt + 1 ? structuredClone(msg) : msg;
          scope = { usage: null, tools: [] };
          outputs = await this.invoke(run, deployedNode, invocation, input, attempt, scope);
          error = null;
          break;
        } catch (caught) {
          error = caught instanceof Error ? caught : new Error(String(caught));
          const retryable = (error as { retryable?: boolean }).retryable !== false && !run.abort.signal.aborted;
          if (!retryable || attempt >= policy.maxAttempts) break;
          const backoff = Math.min((policy.backoffMs ?? 1000) * 2 ** (attempt - 1), policy.maxBackoffMs ?? Number.MAX_SAFE_INTEGER);
          withFields(this.runLog(run), { nodeId: invocation.nodeId }).warn(`node "${invocation.nodeId}" attempt ${attempt} failed, retrying in ${backoff} ms: ${run.flow.redactor.text(error.message)}`);
          this.setWaiting(run, +1);
          const slept = await sleep(backoff, run.abort.signal);
          this.setWaiting(run, -1);
          if (!slept) break;
        }
      }
    }
    if (run.abort.signal.aborted || this.closing) return; // Cancelled or shutting down: nothing more is written for this run.

    const finishedAt = Date.now();
    let next: InvocationRecord[];
    let tools = scope.tools;
    /** Set when even the error message for catch nodes cannot be stored: the failure is not routed. */
    let unroutable = false;
    let finished: boolean;
    let finalStatus: RunStatus;
    let committed: Promise<void>;
    for (;;) {
      // Building the next invocations copies a fanned-out message (structuredClone), and storing serialises it: either
      // can find a message too large or deep to pass on. That fails this invocation with the reason (below) instead of
      // leaving the run stuck.
      try {
        if (error) {
          next = unroutable ? [] : this.routeToCatch(run, deployedNode, invocation, msg, error);
          if (next.length === 0 && run.failure === null) run.failure = `node "${invocation.nodeId}" failed: ${run.flow.redactor.text(error.message)}`;
        } else {
          next = this.nextInvocations(run, deployedNode, invocation.id, outputs);
          if (run.flow.completeNodes.length > 0) next.push(...this.routeToComplete(run, deployedNode, invocation, msg));
        }
        for (const tool of tools) tool.seq = run.seq++;
        finished = run.outstanding + next.length - 1 === 0;
        finalStatus = run.failure ? 'failed' : 'succeeded';
        // The completion (outputs + next invocations, one transaction) is queued on the single writer and the next
        // nodes run without waiting for it: the writer commits in order, so storage always holds a consistent prefix
        // of the run, and whatever was not yet committed at a crash is run again on resume. Only the run's end
        // waits for its commit, so a finished run is never reported before it is stored.
        committed = this.options.storage.completeInvocation(
          run.flow.redactor.completion({
            invocation: { id: invocation.id, status: error ? 'failed' : 'succeeded', attempt, outputs, error: error?.message ?? null, startedAt, finishedAt, usage: scope.usage },
            next: tools.length > 0 ? [...tools, ...next] : next,
            run: finished ? { id: run.record.id, status: finalStatus, error: run.failure, finishedAt } : undefined,
          }),
        );
        break;
      } catch (unstorable) {
        // Storage throws before anything is queued (see Storage.completeInvocation); a copy too deep for the stack is a
        // RangeError. The run's count of outstanding invocations is only updated after this loop.
        const tooDeep = unstorable instanceof RangeError && /call stack/i.test(unstorable.message);
        if (!(unstorable instanceof UnstorableMessageError || tooDeep) || unroutable) throw unstorable;
        if (error) unroutable = true;
        else error = new Error(`its output cannot be passed on: ${unstorable instanceof UnstorableMessageError ? unstorable.detail : `it is nested more than ${this.options.maxDepth ?? DEFAULT_MAX_DEPTH} levels deep (FLOWCREW_MAX_DEPTH)`}`);
        outputs = [];
        tools = [];
      }
    }
    run.outstanding += next.length - 1;
    const nodeFinished = () =>
      this.options.events.nodeFinished({
        flowId: run.record.flowId,
        runId: run.record.id,
        nodeId: invocation.nodeId,
        invocationId: invocation.id,
        attempt,
        status: error ? 'failed' : 'succeeded',
        outputs,
        error: error?.message ?? null,
        durationMs: finishedAt - startedAt,
      });
    if (!finished) {
      this.uncommitted++;
      const settled = committed.then(
        () => void this.uncommitted--,
        (storageError: unknown) => {
          this.uncommitted--;
          this.dropRun(run, storageError as Error, `could not record node "${invocation.nodeId}"`);
        },
      );
      // Back-pressure: when storage falls behind, wait for this commit rather than let the queue grow without bound.
      if (this.uncommitted > MAX_UNCOMMITTED) await settled;
      if (run.abort.signal.aborted) return;
      nodeFinished();
      for (const inv of next) void this.dispatch(run, inv);
      return;
    }
    try {
      await committed;
    } catch (storageError) {
      this.dropRun(run, storageError as Error, `could not record node "${invocation.nodeId}"`);
      return;
    }
    if (run.abort.signal.aborted) return;
    nodeFinished();
    this.completeRun(run, finalStatus, finishedAt);
  }

  private async invoke(run: ActiveRun, deployedNode: DeployedNode, invocation: InvocationRecord, msg: FlowMessage, attempt: number, scope: InvocationScope): Promise<PortMessage[]> {
    const onInput = deployedNode.instance.onInput;
    if (!onInput) return [];
    const sent: PortMessage[] = [];
    const flowId = run.record.flowId;
    const nodeId = invocation.nodeId;
    const timeoutMs = deployedNode.timeoutMs;
    // A node with a timeout gets its own signal (aborted by the timeout or the run); otherwise the run's signal
    // serves, which saves an AbortController and two listeners per hop.
    const controller = timeoutMs > 0 ? new AbortController() : null;
    const signal = controller ? controller.signal : run.abort.signal;
    const onRunAbort = () => controller?.abort(run.abort.signal.reason);
    if (controller) run.abort.signal.addEventListener('abort', onRunAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    let onStop: (() => void) | undefined;
    const ctx = new NodeInputContext(this, run, deployedNode, invocation, attempt, signal, scope, sent);
    try {
      let result = onInput.call(deployedNode.instance, msg, ctx);
      if (result instanceof Promise) {
        // Stop waiting when the signal aborts: the run was cancelled, or (with a timeout) the time ran out.
        const stop = new Promise<never>((_, reject) => {
          if (controller) timer = setTimeout(() => controller.abort(new Error(`node timed out after ${timeoutMs} ms`)), timeoutMs);
          onStop = () => reject(signal.reason as Error);
          signal.addEventListener('abort', onStop, { once: true });
        });
        result = await Promise.race([result, stop]);
      }
      if (sent.length === 0) return normaliseOutput(result);
      return [...sent, ...normaliseOutput(result)];
    } finally {
      clearTimeout(timer);
      if (controller) run.abort.signal.removeEventListener('abort', onRunAbort);
      if (onStop) signal.removeEventListener('abort', onStop);
    }
  }

  /** Error routing: catch nodes whose scope covers the failed node get the message with `msg.error`. */
  private routeToCatch(run: ActiveRun, failed: DeployedNode | undefined, invocation: InvocationRecord, msg: FlowMessage, error: Error): InvocationRecord[] {
    // A message already carrying a caught error is not caught again: that would loop.
    if (msg && typeof msg === 'object' && 'error' in msg && (msg as { _caught?: boolean })._caught) return [];
    // Node-RED's rule: catch nodes marked `uncaught` only take errors no other catch node handles.
    const inScope = run.flow.catchNodes.filter((c) => {
      if (c.node.id === invocation.nodeId) return false;
      const scope = (c.node.props ?? {}).scope;
      return !Array.isArray(scope) || scope.includes(invocation.nodeId);
    });
    const handling = inScope.filter((c) => (c.node.props ?? {}).uncaught !== true);
    const catchers = handling.length > 0 ? handling : inScope;
    if (catchers.length === 0) return [];
    const errorMsg: FlowMessage = {
      ...(msg ?? {}),
      _caught: true,
      error: { message: error.message, source: { id: invocation.nodeId, type: invocation.nodeType, name: failed?.label ?? invocation.nodeId } },
    };
    return catchers.map((c, i) => this.pendingInvocation(run, c, i === 0 ? errorMsg : structuredClone(errorMsg), invocation.id));
  }

  /** Node-RED's complete nodes: a copy of the message a node in their scope finished, with msg.complete.source. */
  private routeToComplete(run: ActiveRun, done: DeployedNode | undefined, invocation: InvocationRecord, msg: FlowMessage): InvocationRecord[] {
    const watching = run.flow.completeNodes.filter((c) => {
      const scope = (c.node.props ?? {}).scope;
      return c.node.id !== invocation.nodeId && Array.isArray(scope) && scope.includes(invocation.nodeId) && !c.wires.flat().includes(invocation.nodeId);
    });
    const source = { id: invocation.nodeId, type: invocation.nodeType, name: done?.label ?? invocation.nodeId };
    return watching.map((c) => this.pendingInvocation(run, c, { ...structuredClone(msg ?? {}), complete: { source } }, invocation.id));
  }

  /** Node-RED's status nodes: each status change of a node in their scope starts a run at them with msg.status. */
  private routeStatus(flowId: string, nodeId: string, type: string, name: string, status: NodeStatus): void {
    const deployed = this.deployed.get(flowId);
    if (!deployed || deployed.statusNodes.length === 0) return;
    for (const s of deployed.statusNodes) {
      const scope = (s.node.props ?? {}).scope;
      if (s.node.id === nodeId || (Array.isArray(scope) && (!scope.includes(nodeId) || s.wires.flat().includes(nodeId)))) continue;
      const msg: FlowMessage = { status: { ...status, ...(status.text === undefined ? {} : { text: String(status.text) }), source: { id: nodeId, type, name } } };
      this.runNow(flowId, msg, { nodeId: s.node.id }).catch((error: unknown) => this.options.log.warn(`status node "${s.node.id}": could not start a run: ${(error as Error).message}`));
    }
  }

  private completeRun(run: ActiveRun, status: RunStatus, finishedAt: number): void {
    run.record.status = status;
    run.record.error = run.failure;
    run.record.finishedAt = finishedAt;
    this.active.delete(run.record.id);
    this.settleReply(run, new Error(run.failure ?? 'the flow finished without sending a response'));
    this.options.events.runFinished(run.record);
    this.releaseSlot(run.flow);
    this.applyRetention(run);
  }

  private async finishRun(run: ActiveRun): Promise<void> {
    const finishedAt = Date.now();
    await this.options.storage.updateRun({ id: run.record.id, status: 'succeeded', finishedAt });
    this.completeRun(run, 'succeeded', finishedAt);
  }

  private applyRetention(run: ActiveRun): void {
    const mode = run.flow.flow.settings?.retention ?? this.options.retention.mode;
    if (mode === 'all' || (mode === 'failed' && run.record.status !== 'succeeded')) return;
    this.options.storage.deleteRun(run.record.id).catch((error: unknown) => this.runLog(run).warn(`retention: could not delete run ${run.record.id}: ${(error as Error).message}`));
  }

  /** What nodes get as `init.services`; tools get a webhook registration that refuses. */
  private services(registerWebhook: RuntimeServices['registerWebhook']): RuntimeServices {
    return {
      registerWebhook,
      callFlow: (flowId, msg, opts) => this.callFlow(flowId, msg, opts),
      listTools: () => this.listTools(),
      dataDir: this.options.dataDir,
      outbound: this.outbound,
      mcpServers: this.options.mcpServers ?? NO_MCP_SERVERS,
      // Each node gets its own scope at deploy; this one serves callers outside a node (credential tests).
      resources: this.nodeServices.pools,
      blobs: this.nodeServices.blobs,
      database: this.nodeServices.database,
    };
  }

  /** Services for work outside any node (a credential type's connection test). */
  runtimeServices(): RuntimeServices {
    return this.services(() => {
      throw new Error('only a deployed node can register webhooks');
    });
  }

  listTools(): ToolDescription[] {
    return this.options.registry
      .describe()
      .filter((t) => t.usableAsTool)
      .map((t) => ({ type: t.type, label: t.label, description: t.help.split('\n').find((line) => line.trim() && !line.startsWith('#'))?.trim() ?? t.label, parameters: t.props as Record<string, unknown> }));
  }

  /**
   * Run a tool-capable node type on behalf of `caller` (an AI agent). The call is its own invocation in the run
   * (parent: the caller's invocation), committed with the caller's completion.
   */
  /** @internal used by NodeInputContext */
  async callTool(run: ActiveRun, caller: DeployedNode, callerInvocation: InvocationRecord, call: ToolCall, signal: AbortSignal, scope: InvocationScope): Promise<FlowMessage[]> {
    const definition = this.options.registry.get(call.type);
    if (!definition) throw new Error(`tool "${call.type}" is not an installed node type`);
    if (!definition.usableAsTool) throw new Error(`node type "${call.type}" is not usable as a tool`);
    if (signal.aborted) throw signal.reason as Error;
    const props = structuredClone(call.props ?? {});
    const problems = this.options.registry.checkProps(call.type, props);
    if (problems.length > 0) throw new Error(`tool "${call.type}" arguments are invalid: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`);
    const credentials = call.credentials ? await this.options.credentials(call.credentials) : undefined;
    if (call.credentials && !credentials) throw new Error(`tool "${call.type}": credential "${call.credentials}" does not exist`);
    if (call.credentials) {
      const info = await this.options.credentialInfo?.(call.credentials);
      const problem = info && bindingProblem(call.type, definition, info);
      if (problem) throw new Error(`tool "${call.type}": ${problem}`);
      run.flow.redactor.addCredential(credentials, definition.credentials?.schema);
    }
    const label = call.label ?? definition.label;
    const flowId = run.record.flowId;
    const log = this.nodeLogger(flowId, caller.node.id, `${caller.label} → ${label}`, run.flow.redactor, run.record.id);
    const shared = await this.nodeShared(call.credentials, definition, run.flow.redactor);
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
          ...this.services(() => {
            throw new Error('a tool cannot register webhooks');
          }),
          resources: shared.resources,
        },
      });
    } catch (error) {
      this.releaseShared(shared, call.credentials, false);
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
    const record: InvocationRecord = { ...this.pendingInvocation(run, toolNode, call.input ?? {}, callerInvocation.id), seq: 0, nodeType: call.type };
    const startedAt = Date.now();
    record.startedAt = startedAt;
    this.options.events.nodeStarted({ flowId, runId: run.record.id, nodeId: record.nodeId, invocationId: record.id, attempt: 1, input: record.input });
    const nested: InvocationScope = { usage: null, tools: [] };
    try {
      const outputs = await this.invoke(run, toolNode, record, structuredClone(call.input ?? {}), 1, nested);
      Object.assign(record, { status: 'succeeded', attempt: 1, outputs, finishedAt: Date.now() });
      return outputs.map((o) => o.msg);
    } catch (error) {
      Object.assign(record, { status: 'failed', attempt: 1, outputs: [], error: (error as Error).message, finishedAt: Date.now() });
      throw error;
    } finally {
      scope.tools.push(record, ...nested.tools);
      if (nested.usage) scope.usage = addUsage(scope.usage, nested.usage);
      this.options.events.nodeFinished({
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
      this.releaseShared(shared, call.credentials, false);
    }
  }

  /** Sub-flow call: run `flowId` from its subflow-in node and resolve with what its subflow-out replies. */
  private async callFlow(flowId: string, msg: FlowMessage, options: { signal: AbortSignal; parentRunId: string; timeoutMs?: number; entryNodeId?: string }): Promise<FlowMessage> {
    const deployed = this.deployed.get(flowId);
    if (!deployed) throw new Error(`sub-flow "${flowId}" is not deployed`);
    const entry = options.entryNodeId ? deployed.nodes.get(options.entryNodeId) : [...deployed.nodes.values()].find((d) => d.node.type === 'subflow-in');
    if (!entry) throw new Error(options.entryNodeId ? `flow "${flowId}" has no node "${options.entryNodeId}" to call` : `flow "${flowId}" has no subflow-in node to call`);
    const { runId, reply } = await this.runNow(flowId, structuredClone(msg), {
      nodeId: entry.node.id,
      parentRunId: options.parentRunId,
      awaitReply: true,
      replyTimeoutMs: options.timeoutMs ?? 60_000,
    });
    const onAbort = () => void this.cancel(runId);
    options.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const answer = await reply!;
      return (answer.body ?? {}) as FlowMessage;
    } finally {
      options.signal.removeEventListener('abort', onAbort);
    }
  }

  /** Prefixed, size-capped and rate-limited per node (node-logger.ts); with the run's id on its lines when given. */
  private nodeLogger(flowId: string, nodeId: string, label: string, redactor: Redactor, runId?: string): Logger {
    return redactedLogger(createNodeLogger(this.options.log, { flowId, nodeId, label, runId }, this.options.nodeLimits), redactor);
  }

  /** The node's logger for one run (ctx.log during onInput): made when a node first logs in that run. */
  runNodeLogger(run: ActiveRun, node: DeployedNode): Logger {
    return this.nodeLogger(run.record.flowId, node.node.id, node.label, run.flow.redactor, run.record.id);
  }

  /** The executor's own lines about a run carry its runId and flowId. */
  private runLog(run: ActiveRun): Logger {
    return withFields(this.options.log, { runId: run.record.id, flowId: run.record.flowId });
  }

  /** The type of a deployed node (metrics label node durations with it); undefined once undeployed. */
  nodeType(flowId: string, nodeId: string): string | undefined {
    return this.deployed.get(flowId)?.nodes.get(nodeId)?.node.type;
  }

  /** When the oldest run active in this process was accepted (the stuck-runs metric), or null when none is. */
  oldestActiveRunAt(): number | null {
    let oldest: number | null = null;
    for (const run of this.active.values()) if (oldest === null || run.record.createdAt < oldest) oldest = run.record.createdAt;
    return oldest;
  }

  /**
   * Stop triggers and close nodes. Runs in flight are left as they are stored: pending invocations resume on
   * the next start, so nothing accepted is lost by a shutdown either.
   */
  async close(): Promise<void> {
    this.closing = true;
    // A clean stop is not a crash: the runs in flight will not count an interruption when they resume.
    const active = [...this.active.values()].filter((run) => run.record.status !== 'queued' && !run.abort.signal.aborted).map((run) => run.record.id);
    const started = [...new Set([...active, ...this.resuming])];
    await this.options.storage.recordCleanStop(started).catch((error: unknown) => this.options.log.warn(`could not record the clean stop of ${started.length} run(s): ${(error as Error).message}`));
    for (const deployed of this.deployed.values()) await this.stopTriggers(deployed);
    for (const run of this.active.values()) {
      run.abort.abort(new Error('runtime shutting down'));
      this.settleReply(run, new Error('runtime shutting down'));
    }
    for (const deployed of this.deployed.values()) await this.closeNodes([...deployed.nodes.values()], true);
    this.deployed.clear();
    this.active.clear();
    await this.nodeServices.close();
  }
}

/**
 * The `ctx` a node's onInput receives. A class rather than an object of closures: one allocation per hop, with
 * the methods shared on the prototype.
 */
class NodeInputContext implements InputContext {
  readonly runId: string;
  readonly nodeId: string;
  readonly flowId: string;
  private runLogger: Logger | undefined;
  readonly status: InputContext['status'];
  readonly credentials: Record<string, unknown> | undefined;
  readonly credential: LiveCredential | undefined;
  readonly context: InputContext['context'];

  constructor(
    private readonly executor: Executor,
    private readonly run: ActiveRun,
    private readonly node: DeployedNode,
    private readonly invocation: InvocationRecord,
    readonly attempt: number,
    readonly signal: AbortSignal,
    private readonly scope: InvocationScope,
    private readonly sent: PortMessage[],
  ) {
    this.runId = run.record.id;
    this.nodeId = invocation.nodeId;
    this.flowId = run.record.flowId;
    this.status = node.status;
    // The credential's fields as they are now: an edit reaches the next message without a redeploy.
    this.credential = node.credential;
    this.credentials = node.credential ? node.credential.fields : node.credentials;
    this.context = node.context;
  }

  /** Made on first use only: most invocations never log, and a logger with the run's id costs an allocation. */
  get log(): Logger {
    return (this.runLogger ??= this.executor.runNodeLogger(this.run, this.node));
  }

  get idempotencyKey(): string {
    return `${this.runId}:${this.nodeId}:${this.invocation.id}:${this.attempt}`;
  }

  send(out: FlowMessage | FlowMessage[] | null, port = 0): void {
    if (out === null || out === undefined) return;
    for (const msg of Array.isArray(out) ? out : [out]) this.sent.push({ port, msg });
  }

  debug(value: unknown, meta?: { property?: string }): void {
    this.executor.options.events.debug({ flowId: this.flowId, runId: this.runId, nodeId: this.nodeId, value, property: meta?.property, at: Date.now() });
  }

  reply(reply: TriggerReply): void {
    this.executor.settleReply(this.run, reply);
  }

  progress(data: unknown): void {
    this.executor.options.events.progress({ flowId: this.flowId, runId: this.runId, nodeId: this.nodeId, invocationId: this.invocation.id, data });
  }

  recordUsage(usage: ModelUsage): void {
    this.scope.usage = addUsage(this.scope.usage, usage);
  }

  callTool(call: ToolCall): Promise<FlowMessage[]> {
    return this.executor.callTool(this.run, this.node, this.invocation, call, this.signal, this.scope);
  }
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
