/**
 * An isolated deployment for test and pinned runs: its own Executor on an in-memory SQLite store, with only the node
 * types the flows use (copied from the real registry) plus the pinned-output type. Triggers are not started and no
 * webhook is registered, so a test never touches the real flow, its routes, its runs or its context.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FlowMessage, Logger, OutboundServices, TriggerReply } from '@flowcrew/sdk';
import { EventFanout } from '../executor/events.ts';
import { Executor } from '../executor/executor.ts';
import type { ExecutorOptions } from '../executor/types.ts';
import type { FlowDocument, FlowIssue } from '../flow/types.ts';
import { validateFlowAsync } from '../flow/validate.ts';
import { createLogger } from '../logging/logger.ts';
import { flowVariablesOnly } from '../variables/flow-env.ts';
import { NodeRegistry } from '../registry/registry.ts';
import { createSqliteStorage } from '../storage/sqlite.ts';
import type { InvocationRecord, RunRecord, Storage } from '../storage/types.ts';
import { PINNED_NODE_TYPE, pinnedOutputNode } from './pins.ts';

export interface SandboxSource {
  /** The runtime's registry: node definitions are taken from it, by type. */
  registry: NodeRegistry;
  /** Resolves credential ids for nodes that are not mocked (the runtime's vault); none by default. */
  credentials?(id: string): Promise<Record<string, unknown> | undefined>;
  outbound?: OutboundServices;
  log?: Logger;
  /** The flows' environment variables (the runtime's per-project variables, a test suite's `env`); none by default. */
  environment?: ExecutorOptions['environment'];
}

/** A flow that cannot be deployed in the sandbox: every problem, with pointers into the (transformed) document. */
export class SandboxDeployError extends Error {
  constructor(
    readonly flowId: string,
    readonly issues: FlowIssue[],
  ) {
    super(`flow "${flowId}" cannot be deployed for the test: ${issues.map((i) => `${i.pointer}: ${i.message}`).join('; ')}`);
    this.name = 'SandboxDeployError';
  }
}

export interface SandboxRun {
  run: RunRecord;
  invocations: InvocationRecord[];
  /** What a node answered with ctx.reply (webhook-response), when the run replied. */
  reply?: TriggerReply;
  /** True when the run did not finish in time and was cancelled. */
  timedOut: boolean;
}

export class TestSandbox {
  private readonly finished = new Map<string, (run: RunRecord) => void>();
  private readonly done = new Map<string, RunRecord>();

  private constructor(
    private readonly executor: Executor,
    private readonly storage: Storage,
    private readonly registry: NodeRegistry,
    private readonly dataDir: string,
    /** The sandbox's own run events (a test run's live view listens here: pins/live.ts). */
    readonly events: EventFanout,
  ) {
    events.add({
      runFinished: (run) => {
        this.done.set(run.id, { ...run });
        this.finished.get(run.id)?.({ ...run });
        this.finished.delete(run.id);
      },
    });
  }

  /** Deploy `flows` (the flow under test first, then the flows it calls) in a fresh sandbox. */
  static async open(source: SandboxSource, flows: FlowDocument[]): Promise<TestSandbox> {
    const registry = new NodeRegistry();
    const types = new Set(flows.flatMap((f) => f.nodes.filter((n) => !n.disabled).map((n) => n.type)));
    types.delete(PINNED_NODE_TYPE);
    registry.register([pinnedOutputNode], 'flowcrew-flowtest');
    for (const type of types) {
      const definition = source.registry.get(type);
      // An unknown type is left out: validation below reports it with its node.
      if (definition) registry.register([definition], source.registry.packOf(type) ?? 'inline');
    }
    const storage = createSqliteStorage({ filename: ':memory:' });
    await storage.migrate();
    const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-flowtest-'));
    const events = new EventFanout();
    const executor = new Executor({
      storage,
      registry,
      events,
      log: source.log ?? createLogger({ level: 'silent' }),
      retention: { mode: 'all', maxAgeMs: 0 },
      credentials: source.credentials ?? (async () => undefined),
      dataDir,
      registerWebhook: () => () => {},
      outbound: source.outbound,
      // Without the runtime's variables a flow still reads its own (its env).
      environment: source.environment ?? flowVariablesOnly({ log: source.log ?? createLogger({ level: 'silent' }) }),
      triggers: false,
    });
    const sandbox = new TestSandbox(executor, storage, registry, dataDir, events);
    try {
      for (const flow of flows) await sandbox.deploy(flow);
    } catch (error) {
      await sandbox.close();
      throw error;
    }
    return sandbox;
  }

  private async deploy(flow: FlowDocument): Promise<void> {
    const { valid, issues, flow: checked } = await validateFlowAsync(flow, this.registry);
    if (!valid) throw new SandboxDeployError(flow.id, issues);
    await this.storage.saveFlow(checked);
    try {
      await this.executor.deploy(checked);
    } catch (error) {
      const nodeId = (error as { nodeId?: string }).nodeId;
      throw new SandboxDeployError(flow.id, [{ pointer: '/', message: (error as Error).message, ...(nodeId ? { nodeId } : {}) }]);
    }
  }

  /**
   * Run `flowId` with `msg` at node `nodeId`: at a trigger (a node with no input) `msg` is what the trigger emits on
   * `port`; at any other node it is the node's input. Resolves when the run ends, or cancels it after `timeoutMs`.
   */
  async run(flowId: string, nodeId: string, msg: FlowMessage, options: { port?: number; timeoutMs: number; manual?: boolean }): Promise<SandboxRun> {
    const definition = this.registry.get(this.executor.nodeType(flowId, nodeId) ?? '');
    if (!definition) throw new Error(`flow "${flowId}" has no node "${nodeId}" to start the test at`);
    const input = structuredClone(msg);
    const started =
      // `manual`: the editor's ▶ Run: the entry node itself is invoked (an inject sends its own payload).
      definition.inputs === 0 && !options.manual
        ? await this.executor.admission.emitFromTrigger(flowId, nodeId, input, { port: options.port, awaitReply: true, replyTimeoutMs: options.timeoutMs })
        : await this.executor.runNow(flowId, input, { nodeId, awaitReply: true, replyTimeoutMs: options.timeoutMs });
    let reply: TriggerReply | undefined;
    // A flow that never replies is normal: only the run's end matters; the reply is kept when there is one.
    started.reply?.then((r) => (reply = r)).catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), options.timeoutMs)));
    let run = await Promise.race([this.waitFinished(started.runId), timeout]);
    clearTimeout(timer);
    const timedOut = run === null;
    if (run === null) run = (await this.executor.cancel(started.runId)) ?? (await this.storage.getRun(started.runId))!;
    // Let a reply settled in the same turn as the run's end be seen.
    await new Promise((resolve) => setImmediate(resolve));
    const invocations = await this.storage.listInvocations(started.runId);
    return { run, invocations, timedOut, ...(reply ? { reply } : {}) };
  }

  /** Every run the sandbox made (the run started and its sub-flow runs), oldest first, with their invocations. */
  async history(): Promise<Array<{ run: RunRecord; invocations: InvocationRecord[] }>> {
    const runs = (await this.storage.listRuns({ limit: 1000 })).reverse();
    return Promise.all(runs.map(async (run) => ({ run, invocations: await this.storage.listInvocations(run.id) })));
  }

  private waitFinished(runId: string): Promise<RunRecord> {
    const run = this.done.get(runId);
    return run ? Promise.resolve(run) : new Promise((resolve) => this.finished.set(runId, resolve));
  }

  async close(): Promise<void> {
    await this.executor.close().catch(() => {});
    await this.storage.close().catch(() => {});
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
