/**
 * The executor: deploys flows (nodes created once, triggers started), turns trigger events into durable runs,
 * and moves messages along wires node by node.
 *
 * Durability: a run and its first pending invocations are committed before a trigger is acknowledged; each
 * finished invocation is committed together with the invocations it produced (one transaction, group
 * committed) before those are dispatched. After a crash, `resume()` re-dispatches exactly the invocations
 * that never completed.
 *
 * This class is the facade; each concern has its own module (they reach each other through ExecutorHub):
 * deploy.ts (deploy, triggers), admission.ts (run admission, per-flow concurrency, cancel, run end), dispatch.ts
 * (where and how an invocation runs: retries, commits, next hops), routing.ts + roles.ts (where messages go next),
 * replies.ts (webhook reply waiters), tools.ts (tool calls, sub-flows), resume.ts, retention.ts, invoke.ts (a node
 * call and its ctx).
 */
import type { DeclaredMcpServers, EmitOptions, EmitResult, FlowMessage, Logger, OutboundServices, RuntimeServices, ToolDescription } from '@flowcrew/sdk';
import type { FlowDocument } from '../flow/types.ts';
import type { RunRecord } from '../storage/types.ts';
import { withFields } from '../logging/logger.ts';
import { createOutboundGuard } from '../outbound/index.ts';
import { RunAdmission } from './admission.ts';
import { Deployer } from './deploy.ts';
import { InProcessDispatcher, type InvocationDispatcher } from './dispatch.ts';
import { createNodeLogger } from './node-logger.ts';
import { NodeServicesHost } from './node-services.ts';
import { redactedLogger, redactingEvents, type Redactor } from './redaction.ts';
import { ReplyHandles, settleReply } from './replies.ts';
import { Resumer, type ClaimedRuns } from './resume.ts';
import { ToolCalls } from './tools.ts';
import type { ActiveRun, DeployedFlow, ExecutorHub, ExecutorOptions } from './types.ts';

export { CannotStartRunError, DeployError, type ExecutorOptions } from './types.ts';

const NO_MCP_SERVERS: DeclaredMcpServers = {
  names: () => [],
  resolve: (name) => Promise.reject(new Error(`MCP server "${name}" is not declared (an administrator declares MCP servers in the file FLOWCREW_MCP_SERVERS names; none are)`)),
};

export class Executor implements ExecutorHub {
  readonly options: ExecutorOptions;
  readonly deployed = new Map<string, DeployedFlow>();
  readonly active = new Map<string, ActiveRun>();
  readonly replies = new ReplyHandles();
  closing = false;
  /** Live credentials, resource pools and blobs of this runtime. */
  readonly nodeServices: NodeServicesHost;
  readonly deployer: Deployer;
  readonly admission: RunAdmission;
  readonly dispatcher: InvocationDispatcher;
  readonly tools: ToolCalls;
  private readonly resumer: Resumer;
  private readonly outbound: OutboundServices;

  constructor(options: ExecutorOptions) {
    // Everything reported about a flow passes its redactor first (a no-op for flows without credentials).
    this.options = { ...options, events: redactingEvents(options.events, (flowId) => this.deployed.get(flowId)?.redactor) };
    this.outbound = options.outbound ?? createOutboundGuard();
    this.nodeServices =
      options.nodeServices ?? new NodeServicesHost({ storage: options.storage, log: options.log, dataDir: options.dataDir, resolve: options.credentials, database: options.database });
    this.deployer = new Deployer(this);
    this.admission = new RunAdmission(this);
    this.dispatcher = new InProcessDispatcher(this);
    this.tools = new ToolCalls(this);
    this.resumer = new Resumer(this);
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

  deploy(flow: FlowDocument): Promise<void> {
    return this.deployer.deploy(flow);
  }

  undeploy(flowId: string): Promise<void> {
    return this.deployer.undeploy(flowId);
  }

  /**
   * A stored credential was changed (or deleted) by this runtime: running nodes get the new fields and revision at
   * once, and resources opened with the old ones are closed. Changes made elsewhere are found by polling.
   */
  credentialChanged(id: string): Promise<boolean> {
    return this.nodeServices.credentialChanged(id);
  }

  rerun(past: RunRecord): Promise<EmitResult> {
    return this.admission.rerun(past);
  }

  runNow(flowId: string, input: FlowMessage, options: EmitOptions & { nodeId?: string; parentRunId?: string; reuse?: import('./admission.ts').ReuseFinished } = {}): Promise<EmitResult> {
    return this.admission.runNow(flowId, input, options);
  }

  cancel(runId: string): Promise<RunRecord | null> {
    return this.admission.cancel(runId);
  }

  /** Resume every unfinished run, or only `runIds` (whose leases this process took over); resolves with how many. */
  resume(runIds?: readonly string[], claimed?: ClaimedRuns): Promise<number> {
    return this.resumer.resume(runIds, claimed);
  }

  /** Ids of the runs this process executes (or holds queued for a slot), for lease renewal. */
  activeRunIds(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Stop executing runs another process took over (their lease was lost, e.g. after a pause longer than the lease):
   * nothing more is written for them here. Their invocations already committed stay; the new owner runs the rest.
   */
  abandon(runIds: Iterable<string>, reason: string): void {
    for (const id of runIds) {
      const run = this.active.get(id);
      if (run) this.admission.dropRun(run, new Error(reason), 'stopped here');
    }
  }

  listTools(): ToolDescription[] {
    return this.tools.listTools();
  }

  /** What nodes get as `init.services`; tools get a webhook registration that refuses. */
  services(registerWebhook: RuntimeServices['registerWebhook']): RuntimeServices {
    return {
      registerWebhook,
      registerWebSocket: (route) => {
        if (!this.options.registerWebSocket) throw new Error('this runtime serves no WebSockets');
        return this.options.registerWebSocket(route);
      },
      callFlow: (flowId, msg, opts) => this.tools.callFlow(flowId, msg, opts),
      listTools: () => this.tools.listTools(),
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

  nodeLogger(flowId: string, nodeId: string, label: string, redactor: Redactor, runId?: string): Logger {
    return redactedLogger(createNodeLogger(this.options.log, { flowId, nodeId, label, runId }, this.options.nodeLimits), redactor);
  }

  runLog(run: ActiveRun): Logger {
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
    const active = [...this.active.values()].filter((run) => run.record.status !== 'queued' && !run.abort.aborted).map((run) => run.record.id);
    const started = [...new Set([...active, ...this.resumer.resuming])];
    await this.options.storage.recordCleanStop(started).catch((error: unknown) => this.options.log.warn(`could not record the clean stop of ${started.length} run(s): ${(error as Error).message}`));
    await this.deployer.stopAllTriggers();
    for (const run of this.active.values()) {
      run.abort.abort(new Error('runtime shutting down'));
      settleReply(run, new Error('runtime shutting down'));
    }
    await this.deployer.closeAll();
    this.active.clear();
    await this.nodeServices.close();
  }
}
