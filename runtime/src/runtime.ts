/**
 * The runtime facade: everything the REST API, Socket.IO and the CLI can do, in one place, with no HTTP in it.
 * Route handlers stay thin so one authorisation layer can later wrap them all.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FlowMessage, Logger } from '@flowcrew/sdk';
import type { RuntimeConfig } from './config.ts';
import { CredentialVault } from './credentials.ts';
import { invalid, notFound, ProblemError } from './errors.ts';
import { EventFanout } from './executor/events.ts';
import { DebugBuffer } from './live/debug-buffer.ts';
import { DeployError, Executor, CannotStartRunError } from './executor/executor.ts';
import { LeaseKeeper } from './cluster/lease-keeper.ts';
import { electTriggerLeader, type LeaderElection } from './cluster/leader.ts';
import { QueueMode } from './queue/mode.ts';
import { importNodeRed, isNodeRedExport } from './flow/node-red.ts';
import { importN8n, isN8nExport } from './flow/n8n.ts';
import { FLOW_FORMAT, type FlowDocument, type FlowIssue, type FlowView, type ImportResult } from './flow/types.ts';
import { findTooDeep } from './flow/json-depth.ts';
import { validateFlow, validateFlowAsync } from './flow/validate.ts';
import { WebhookRouter } from './api/webhooks.ts';
import { WebSocketRouter } from './api/websockets.ts';
import { declaredMcpServers, loadDeclarations } from './mcp/declared-servers.ts';
import { credentialBindingIssues } from './executor/credential-binding.ts';
import { createOutboundGuard, type OutboundGuard } from './outbound/index.ts';
import { NodeRegistry } from './registry/registry.ts';
import { pinnedOutputNode } from './flowtest/pins.ts';
import { openSubflowLibrary, type SubflowLibrary } from './subflows/library.ts';
import { testCredential, type CredentialTestAnswer, type CredentialTestInput } from './credential-test.ts';
import { openStorage } from './storage/index.ts';
import { RunTracing } from './tracing/tracing.ts';
import { createWaiting, type WaitingRuns } from './waiting/waiting.ts';
import { createLogger, moduleLogger, withFields, type RuntimeLogger } from './logging/logger.ts';
import { UnstorableMessageError, VersionConflictError, type FlowSave, type InvocationRecord, type RunFilter, type RunRecord, type Storage, type StoredFlow } from './storage/types.ts';

/** The runtime's logger as configured (FLOWCREW_LOG_LEVEL, FLOWCREW_LOG_LEVELS, FLOWCREW_LOG_FORMAT): see logging/logger.ts. */
export function loggerFor(config: Pick<RuntimeConfig, 'logLevel' | 'logLevels' | 'logFormat'>): RuntimeLogger {
  return createLogger({ level: config.logLevel, levels: config.logLevels, format: config.logFormat });
}
export { createLogger };

/** A FlowView sent back as-is (GET then PUT) carries read-only fields that are not part of the flow format. */
function withoutViewFields(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const { deployed: _d, deployedVersion: _v, updatedAt: _u, projectId: _p, ...flow } = input as Record<string, unknown>;
  return flow;
}

const isObjectWithoutId = (input: unknown): input is Record<string, unknown> =>
  input !== null && typeof input === 'object' && !Array.isArray(input) && (input as { id?: unknown }).id === undefined;

/** Nearest-rank percentile; null for no data. */
function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;
}

export class Runtime {
  readonly startedAt = Date.now();
  /** WebSocket endpoints nodes serve under /webhook (the HTTP server hands upgrades to it). */
  websockets = new WebSocketRouter();
  /** For readiness (/health/ready): flows that could not be deployed at start, and where resuming runs stands. */
  readonly startup = { flowsLoaded: false, undeployable: [] as string[], resume: 'pending' as 'pending' | 'running' | 'done' | 'failed' };
  private pruneTimer?: NodeJS.Timeout;
  /** Run leases, when runtimes share PostgreSQL (set at boot). */
  private leaseKeeper?: LeaseKeeper;
  /** Queue mode (FLOWCREW_MODE=main|worker): the outbox relay or the queue worker; undefined when embedded. */
  queue?: QueueMode;
  /** The sub-flow library (subflows/library.ts); undefined without SQL storage. */
  subflows?: SubflowLibrary;
  /** Runtimes sharing PostgreSQL: the election of the one that fires cron and repeating inject triggers. */
  leader?: LeaderElection;
  /** OpenTelemetry traces of runs; null unless an OTLP endpoint is set (tracing/tracing.ts). */
  tracing: RunTracing | null = null;
  /** Human in the loop: questions runs wait on (waiting/waiting.ts). */
  waiting?: WaitingRuns;

  private constructor(
    readonly events: EventFanout,
    readonly debugLog: DebugBuffer,
    readonly webhooks: WebhookRouter,
    readonly config: RuntimeConfig,
    readonly storage: Storage,
    readonly registry: NodeRegistry,
    readonly vault: CredentialVault,
    readonly log: Logger,
    readonly executor: Executor,
  ) {}

  /**
   * Open storage, load node packs, deploy what was deployed. Interrupted runs are NOT resumed here: call
   * `resumeRuns()` once the server listens (startServer does), so a run that stalls or kills the runtime can never
   * keep it from starting.
   */
  static async create(config: RuntimeConfig, options: { log?: Logger; loadExamples?: boolean } = {}): Promise<Runtime> {
    const log = moduleLogger(options.log ?? loggerFor(config), 'runtime');
    const storage = await openStorage({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      sqliteSynchronous: config.sqliteSynchronous,
      limits: { maxBytes: config.maxMessageBytes, maxDepth: config.maxDepth },
    });
    const registry = new NodeRegistry();
    // Packs an admin disabled stay disabled across restarts (see the palette manager).
    await registry.useStateFile(path.join(config.userNodesDir, 'flowcrew-packs.json'));
    await registry.loadPackagesIn(config.nodesDir, 'workspace');
    await registry.loadUserDirectory(config.userNodesDir);
    registry.register([pinnedOutputNode], 'flowcrew-flowtest'); // pinned outputs (flowtest/pins.ts)
    for (const pack of registry.packs.filter((p) => p.status === 'error')) log.error(`node pack "${pack.name}" (${pack.path}) failed to load: ${pack.error}`);
    // A key that cannot be used stops the start (with its reason); the database is not left open behind it.
    const vault = await CredentialVault.open(storage, config.dataDir, { keyRingFile: config.keyRingFile, log: moduleLogger(log, 'vault') }).catch(async (error: unknown) => {
      await storage.close().catch(() => {});
      throw error;
    });
    const events = new EventFanout();
    const waiting = createWaiting(storage, vault.keys, moduleLogger(log, 'executor'), config.port);
    // First listener: numbers each debug message, so the live event and the buffer agree on its seq.
    const debugLog = new DebugBuffer(config.previewChars);
    events.add({ debug: (e) => debugLog.add(e) });
    const webhooks = new WebhookRouter();
    const websockets = new WebSocketRouter();
    const queue = await QueueMode.open(config.cluster, storage, moduleLogger(log, 'executor')).catch(async (error: unknown) => {
      await storage.close().catch(() => {});
      throw error;
    });
    const executor = new Executor({
      ...queue?.executorOptions(),
      storage,
      registry,
      log: moduleLogger(log, 'executor'),
      retention: config.retention,
      maxInterruptions: config.maxInterruptions,
      maxDepth: config.maxDepth,
      dataDir: config.dataDir,
      nodeLimits: config.nodeLimits,
      events,
      credentials: (id) => vault.resolve(id),
      credentialInfo: async (id) => {
        const record = await storage.getCredential(id);
        return record ? { id: record.id, name: record.name, type: record.type } : undefined;
      },
      registerWebhook: (route) => webhooks.register(route),
      waiting: waiting?.hooks,
      registerWebSocket: (route) => websockets.register(route),
      database: config.databaseUrl && /^postgres(ql)?:/.test(config.databaseUrl) ? { dialect: 'postgres', url: config.databaseUrl } : { dialect: 'sqlite' },
      outbound: createOutboundGuard({ allow: config.outboundAllow ?? [] }),
      mcpServers: declaredMcpServers(await loadDeclarations(config.mcpServersFile ?? null), (id) => vault.resolve(id)),
    });
    const runtime = new Runtime(events, debugLog, webhooks, config, storage, registry, vault, log, executor);
    runtime.websockets = websockets;
    runtime.queue = queue ?? undefined;
    runtime.waiting = waiting;
    waiting?.attach(executor, events);
    runtime.tracing = RunTracing.fromEnv(runtime);
    runtime.leader = (await electTriggerLeader({ databaseUrl: config.databaseUrl, cluster: config.cluster, hasLeases: !!storage.leases, deployer: executor.deployer, log: moduleLogger(log, 'runtime') })) ?? undefined;
    // Library sub-flows are node types: registered before the stored flows that use them are deployed.
    runtime.subflows = await openSubflowLibrary({ storage, registry, executor, log: moduleLogger(log, 'runtime') });
    await runtime.boot(options.loadExamples ?? true);
    return runtime;
  }

  private async boot(loadExamples: boolean): Promise<void> {
    // Shared PostgreSQL: runs accepted from here on carry this runtime's lease (cluster/lease-keeper.ts).
    const leases = this.storage.leases;
    // A main executes no runs, so it holds no leases: the runs it accepts wait, nobody's, for a worker.
    if (leases && this.config.cluster.mode !== 'main') this.leaseKeeper = new LeaseKeeper({ leases, executor: this.executor, log: moduleLogger(this.log, 'executor'), owner: this.config.cluster.instanceId, ttlMs: this.config.cluster.leaseTtlMs });
    if (loadExamples && this.config.flowsDir) await this.loadExampleFlows(this.config.flowsDir);
    for (const stored of await this.storage.listFlows()) {
      if (stored.deployedFlow === null) continue;
      try {
        const { valid, issues, flow } = await validateFlowAsync(stored.deployedFlow, this.registry, { maxDepth: this.config.maxDepth });
        if (!valid) throw new Error(issues.map((i) => `${i.pointer}: ${i.message}`).join('; '));
        await this.executor.deploy(flow);
      } catch (error) {
        this.startup.undeployable.push(stored.flow.id);
        withFields(this.log, { flowId: stored.flow.id }).error(`flow "${stored.flow.id}" could not be deployed at start: ${(error as Error).message}`);
      }
    }
    this.startup.flowsLoaded = true;
    if (this.config.retention.maxAgeMs > 0) {
      const prune = () =>
        this.storage
          .pruneRuns(Date.now() - this.config.retention.maxAgeMs)
          .then((n) => n > 0 && this.log.info(`retention: pruned ${n} run(s)`))
          .catch((e: unknown) => this.log.warn(`retention: prune failed: ${(e as Error).message}`));
      void prune();
      this.pruneTimer = setInterval(prune, 3_600_000);
      this.pruneTimer.unref();
    }
  }

  /**
   * Resume every run interrupted by the last stop. An invocation that was in flight when the runtime died is run
   * again, at most FLOWCREW_MAX_INTERRUPTIONS times in all; then it fails (see Executor.resume).
   */
  async resumeRuns(): Promise<number> {
    this.startup.resume = 'running';
    const resuming = this.leaseKeeper ? this.leaseKeeper.start() : this.executor.resume();
    const resumed = await resuming.catch((error: unknown) => {
      this.startup.resume = 'failed';
      throw error;
    });
    this.startup.resume = 'done';
    this.waiting?.start();
    this.queue?.start({ executor: this.executor, events: this.events, registry: this.registry, maxDepth: this.config.maxDepth, debugLog: this.debugLog, previewChars: this.config.previewChars });
    if (resumed > 0) this.log.info(`resumed ${resumed} interrupted run(s)`);
    return resumed;
  }

  /** Example flows are stored and deployed the first time only: a user's later edits win. */
  private async loadExampleFlows(dir: string): Promise<void> {
    let files: string[];
    try {
      files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    } catch {
      return;
    }
    for (const file of files) {
      try {
        const doc = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as FlowDocument;
        if (await this.storage.getFlow(doc.id)) continue;
        const saved = await this.saveValidated(doc);
        await this.storage.setDeployed(saved.flow.id, saved.flow.version);
        withFields(this.log, { flowId: doc.id }).info(`loaded example flow "${doc.id}" from ${file}`);
      } catch (error) {
        this.log.error(`example flow ${file} was not loaded: ${error instanceof ProblemError ? `${error.message} ${JSON.stringify(error.issues)}` : (error as Error).message}`);
      }
    }
  }

  // ---- node types ----
  nodeTypes() {
    return this.registry.describe();
  }

  // ---- credential types ----
  /** Credential types the node packs declare (schemas for the editor's forms; no code). */
  credentialTypes() {
    return this.registry.describeCredentialTypes();
  }

  /** Run a credential type's connection test on a stored credential, on new fields, or on both (see credential-test.ts). */
  testCredential(input: CredentialTestInput): Promise<CredentialTestAnswer> {
    return testCredential(
      {
        registry: this.registry,
        services: this.executor.runtimeServices(),
        stored: async (id) => {
          const record = await this.storage.getCredential(id);
          const fields = record ? await this.vault.resolve(id) : undefined;
          return record && fields ? { type: record.type, fields } : undefined;
        },
      },
      input,
    );
  }

  /** A credential was changed or deleted: deployed nodes using it get the new fields now, without a redeploy. */
  credentialChanged(id: string): Promise<boolean> {
    return this.executor.credentialChanged(id);
  }

  // ---- flows ----
  private view(stored: StoredFlow): FlowView {
    return {
      ...stored.flow,
      format: FLOW_FORMAT,
      deployed: this.executor.isDeployed(stored.flow.id),
      deployedVersion: stored.deployedVersion,
      updatedAt: stored.updatedAt,
      projectId: stored.projectId,
    };
  }

  async listFlows(): Promise<FlowView[]> {
    return (await this.storage.listFlows()).map((s) => this.view(s));
  }

  async getFlow(id: string): Promise<FlowView> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    return this.view(stored);
  }

  /** Validate without storing: every issue, each with a JSON pointer. Linear, but holds the event loop meanwhile. */
  validate(input: unknown): { valid: boolean; issues: FlowIssue[]; warnings: FlowIssue[] } {
    const { valid, issues, warnings } = validateFlow(input, this.registry, { maxDepth: this.config.maxDepth });
    return { valid, issues, warnings };
  }

  /** The same as `validate`, giving the event loop a turn every few hundred nodes (what the API should call). */
  async validateAsync(input: unknown): Promise<{ valid: boolean; issues: FlowIssue[]; warnings: FlowIssue[] }> {
    const { valid, issues, warnings } = await this.check(input);
    return { valid, issues, warnings };
  }

  private async check(input: unknown) {
    const result = await validateFlowAsync(input, this.registry, { maxDepth: this.config.maxDepth });
    if (!result.valid) return result;
    // A stored credential of another type than the node takes (an ai-model credential on http-request) is refused here.
    const binding = await credentialBindingIssues(result.flow, (type) => this.registry.get(type), async (id) => {
      const record = await this.storage.getCredential(id);
      return record ? { id: record.id, name: record.name, type: record.type } : undefined;
    });
    return binding.length > 0 ? { ...result, valid: false, issues: [...result.issues, ...binding] } : result;
  }

  private async saveValidated(input: unknown, expectedVersion?: number, projectId?: string): Promise<StoredFlow> {
    const { valid, issues, flow } = await this.check(withoutViewFields(input));
    if (!valid) throw invalid(`the flow has ${issues.length} problem(s)`, issues);
    return this.store(flow, expectedVersion, projectId);
  }

  /** Save a validated flow; a lost optimistic-lock race becomes a 409. */
  private async store(flow: FlowDocument, expectedVersion?: number, projectId?: string): Promise<StoredFlow> {
    try {
      return await this.storage.saveFlow({ ...flow, format: FLOW_FORMAT }, expectedVersion, { projectId });
    } catch (error) {
      if (error instanceof VersionConflictError) throw new ProblemError(409, 'Version conflict', error.message, [], { currentVersion: error.actual });
      throw error;
    }
  }

  /** Create a new flow. Insert-if-absent in storage, so of concurrent creates with one id exactly one wins. */
  async createFlow(body: unknown, options: { projectId?: string } = {}): Promise<FlowView> {
    // A flow without an id gets a generated one, as Node-RED's and n8n's APIs do.
    const input = isObjectWithoutId(body) ? { ...body, id: randomUUID() } : body;
    const id = (input as { id?: unknown } | null)?.id;
    const exists = () => new ProblemError(409, 'Flow exists', `flow "${id}" already exists; use PUT to change it`);
    if (typeof id === 'string' && (await this.storage.getFlow(id))) throw exists();
    try {
      return this.view(await this.saveValidated(input, 0, options.projectId));
    } catch (error) {
      if (error instanceof ProblemError && error.status === 409) throw exists();
      throw error;
    }
  }

  /** Save a new revision. `expectedVersion` (from If-Match or the body's version) guards against lost updates. */
  async updateFlow(id: string, input: unknown, expectedVersion?: number): Promise<FlowView> {
    if (input && typeof input === 'object' && (input as { id?: unknown }).id !== undefined && (input as { id?: unknown }).id !== id) {
      throw invalid('the flow id in the body differs from the URL', [{ pointer: '/id', message: `must be "${id}"` }]);
    }
    if (!(await this.storage.getFlow(id))) throw notFound(`flow "${id}"`);
    return this.view(await this.saveValidated({ ...(input as object), id }, expectedVersion));
  }

  async deleteFlow(id: string): Promise<void> {
    await this.executor.undeploy(id);
    if (!(await this.storage.deleteFlow(id))) throw notFound(`flow "${id}"`);
  }

  /** Deploy the stored revision: validate again (node packs may have changed), create nodes, start triggers. */
  async deployFlow(id: string): Promise<FlowView> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    const { valid, issues, flow } = await this.check(stored.flow);
    if (!valid) throw invalid(`flow "${id}" cannot be deployed: ${issues.length} problem(s)`, issues);
    try {
      await this.executor.deploy(flow);
    } catch (error) {
      if (error instanceof DeployError) {
        const index = flow.nodes.findIndex((n) => n.id === error.nodeId);
        throw new ProblemError(422, 'Deploy failed', error.message, error.nodeId ? [{ pointer: index >= 0 ? `/nodes/${index}` : '/', message: error.message, nodeId: error.nodeId }] : []);
      }
      throw error;
    }
    await this.storage.setDeployed(id, flow.version);
    return this.view({ ...stored, deployedVersion: flow.version, deployedFlow: flow });
  }

  async undeployFlow(id: string): Promise<FlowView> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    await this.executor.undeploy(id);
    await this.storage.setDeployed(id, null);
    return this.view({ ...stored, deployedVersion: null, deployedFlow: null });
  }

  /**
   * Import Flowcrew JSON (one flow or an array) or a Node-RED export (detected). All or nothing: every flow is saved
   * in one transaction, and with `deploy` every flow is deployed first; one that fails leaves nothing stored or
   * deployed (replaced flows keep running their previous revision).
   */
  async importFlows(
    input: unknown,
    options: {
      deploy?: boolean;
      replace?: boolean;
      /** Project of the new flows (a replaced flow stays in its own). */
      projectId?: string;
      /** Called for each valid flow with the stored flow it would replace, before anything is stored: throw to refuse. */
      authorize?: (flow: FlowDocument, existing: StoredFlow | null) => Promise<void> | void;
    } = {},
  ): Promise<ImportResult> {
    // Before the Node-RED detection and importer (recursive): the CLI's input does not pass the API's body guard.
    const tooDeep = findTooDeep(input, this.config.maxDepth);
    if (tooDeep) throw new ProblemError(400, 'Too deeply nested', `the import is nested more than ${this.config.maxDepth} levels deep at ${tooDeep.pointer}`, [tooDeep]);
    let source: ImportResult['source'];
    let docs: unknown[];
    let unmapped: ImportResult['unmapped'] = [];
    let warnings: string[] = [];
    let properties: ImportResult['properties'];
    if (isNodeRedExport(input)) {
      source = 'node-red';
      const imported = importNodeRed(input);
      docs = imported.flows;
      unmapped = imported.unmapped;
      warnings = imported.warnings;
      properties = imported.properties;
      if (docs.length === 0) throw new ProblemError(422, 'Nothing to import', 'the Node-RED export has no flow tab with nodes', [], { unmapped, warnings });
    } else if (isN8nExport(input)) {
      source = 'n8n';
      const imported = importN8n(input);
      docs = imported.flows;
      unmapped = imported.unmapped;
      warnings = imported.warnings;
      if (docs.length === 0) throw new ProblemError(422, 'Nothing to import', 'the n8n workflow has no nodes to import', [], { unmapped, warnings });
    } else if (Array.isArray(input) || (input && typeof input === 'object' && 'nodes' in input)) {
      source = 'flowcrew';
      docs = Array.isArray(input) ? input : [input];
    } else {
      throw new ProblemError(400, 'Unrecognised import', 'expected a Flowcrew flow (an object with "nodes"), an array of flows, a Node-RED export (an array of nodes with "type" and "z") or an n8n workflow ({ nodes, connections })');
    }
    // Where each flow sits in the request, for pointers: /0, /1 ... in an array; /flows/i for Node-RED.
    const prefix = (i: number) => (Array.isArray(input) && source !== 'node-red' ? `/${i}` : source === 'node-red' ? `/flows/${i}` : '');
    // Validate everything before storing anything: an import is all or nothing.
    const issues: FlowIssue[] = [];
    const valid: FlowDocument[] = [];
    const seen = new Map<string, number>();
    for (const [i, doc] of docs.entries()) {
      const result = await this.check(doc);
      issues.push(...result.issues.map((issue) => ({ ...issue, pointer: prefix(i) + issue.pointer })));
      // What node types report without refusing (a crew's CrewAI fields it cannot use) belongs in the import's answer.
      warnings.push(...result.warnings.map((w) => `${w.nodeId ? `node "${w.nodeId}" ` : ''}at ${prefix(i) + w.pointer}: ${w.message}`));
      valid.push(result.flow);
      const id = result.valid ? result.flow.id : undefined;
      if (id !== undefined && seen.has(id)) issues.push({ pointer: `${prefix(i)}/id`, message: `flow id "${id}" appears twice in the import (also at ${prefix(seen.get(id)!) || '/'})` });
      else if (id !== undefined) seen.set(id, i);
    }
    if (issues.length > 0) throw new ProblemError(422, 'Invalid import', `the import has ${issues.length} problem(s); nothing was stored`, issues, { unmapped, warnings, ...(properties ? { properties } : {}) });
    // The revision each flow is replacing (0 = new), so a concurrent edit between check and save is a 409, not lost.
    const saves: FlowSave[] = [];
    /** What the executor runs now for each replaced flow, to restore if the import's deploy fails. */
    const running = new Map<string, FlowDocument | null>();
    for (const doc of valid) {
      const existing = await this.storage.getFlow(doc.id);
      await options.authorize?.(doc, existing);
      if (existing && !options.replace) throw new ProblemError(409, 'Flow exists', `flow "${doc.id}" already exists; import with ?replace=true to overwrite it`, [], { unmapped, warnings });
      const expectedVersion = existing?.flow.version ?? 0;
      saves.push({ flow: { ...doc, format: FLOW_FORMAT, version: expectedVersion + 1 }, expectedVersion, projectId: existing?.projectId ?? options.projectId });
      running.set(doc.id, existing && this.executor.isDeployed(doc.id) ? existing.deployedFlow : null);
    }
    // With ?deploy, every flow is deployed BEFORE anything is stored: one that fails to deploy undoes the others'
    // deployments and nothing is stored. Then every flow is saved and marked deployed in ONE transaction, so a crash
    // leaves all of the import or none of it.
    if (options.deploy) await this.deployAll(saves.map((s) => s.flow), running, prefix);
    let stored: StoredFlow[];
    try {
      stored = await this.storage.saveFlows(saves, { deploy: options.deploy });
    } catch (error) {
      if (options.deploy) await this.restoreDeployments(saves.map((s) => s.flow.id), running);
      if (error instanceof VersionConflictError) {
        throw new ProblemError(409, 'Version conflict', `${error.message} Nothing of the import was stored.`, [], { currentVersion: error.actual, flowId: error.flowId, unmapped, warnings });
      }
      throw error;
    }
    const flows = stored.map((s) => ({ id: s.flow.id, name: s.flow.name, version: s.flow.version, deployed: options.deploy === true }));
    return { source, flows, unmapped, warnings, ...(properties ? { properties } : {}) };
  }

  /** Deploy each flow of an import; on the first failure undo the ones deployed so far and name the flow and node. */
  private async deployAll(flows: FlowDocument[], running: Map<string, FlowDocument | null>, prefix: (i: number) => string): Promise<void> {
    for (const [i, flow] of flows.entries()) {
      try {
        await this.executor.deploy(flow);
      } catch (error) {
        await this.restoreDeployments(flows.slice(0, i).map((f) => f.id), running);
        const detail = `flow "${flow.id}" could not be deployed: ${(error as Error).message}; nothing of the import was stored or deployed`;
        const nodeId = error instanceof DeployError ? error.nodeId : undefined;
        const index = nodeId === undefined ? -1 : flow.nodes.findIndex((n) => n.id === nodeId);
        const pointer = index >= 0 ? `${prefix(i)}/nodes/${index}` : prefix(i) || '/';
        throw new ProblemError(422, 'Deploy failed', detail, [{ pointer, message: (error as Error).message, ...(nodeId ? { nodeId } : {}) }], { flowId: flow.id });
      }
    }
  }

  /** Put the executor back as it was before an import: the previous revision where one ran, else nothing. */
  private async restoreDeployments(ids: string[], running: Map<string, FlowDocument | null>): Promise<void> {
    for (const id of [...ids].reverse()) {
      const previous = running.get(id) ?? null;
      try {
        if (previous) await this.executor.deploy(previous);
        else await this.executor.undeploy(id);
      } catch (error) {
        withFields(this.log, { flowId: id }).error(`import rolled back, but flow "${id}" could not be restored to its previous deployment: ${(error as Error).message}`);
      }
    }
  }

  async exportFlow(id: string): Promise<FlowDocument> {
    const stored = await this.storage.getFlow(id);
    if (!stored) throw notFound(`flow "${id}"`);
    return { ...stored.flow, format: FLOW_FORMAT };
  }

  // ---- runs ----
  async startRun(flowId: string, body: { input?: FlowMessage; nodeId?: string } = {}): Promise<{ runId: string }> {
    if (!(await this.storage.getFlow(flowId))) throw notFound(`flow "${flowId}"`);
    if (!this.executor.isDeployed(flowId)) throw new ProblemError(409, 'Flow not deployed', `flow "${flowId}" is not deployed: deploy it before running it`);
    const input = body.input ?? {};
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ProblemError(400, 'Invalid input', 'input must be a message object, e.g. {"payload": ...}', [{ pointer: '/input', message: 'must be an object' }]);
    }
    try {
      const { runId } = await this.executor.runNow(flowId, input, { nodeId: body.nodeId });
      return { runId };
    } catch (error) {
      if (error instanceof CannotStartRunError) throw new ProblemError(422, 'Cannot start run', error.message, body.nodeId ? [{ pointer: '/nodeId', message: error.message }] : []);
      if (error instanceof UnstorableMessageError) throw new ProblemError(422, 'Invalid input', error.message, [{ pointer: '/input', message: error.detail }]);
      throw error;
    }
  }

  /** Start a new run of the same flow with a past run's original input. */
  async rerun(id: string): Promise<{ runId: string }> {
    const past = await this.storage.getRun(id);
    if (!past) throw notFound(`run "${id}"`);
    if (!this.executor.isDeployed(past.flowId)) throw new ProblemError(409, 'Flow not deployed', `flow "${past.flowId}" is not deployed: deploy it before re-running`);
    try {
      const { runId } = await this.executor.rerun(past);
      return { runId };
    } catch (error) {
      if (error instanceof CannotStartRunError) throw new ProblemError(422, 'Cannot re-run', error.message);
      throw error;
    }
  }

  listRuns(filter: RunFilter): Promise<RunRecord[]> {
    return this.storage.listRuns(filter);
  }

  async getRun(id: string): Promise<RunRecord & { invocations: InvocationRecord[] }> {
    const run = await this.storage.getRun(id);
    if (!run) throw notFound(`run "${id}"`);
    return { ...run, invocations: await this.storage.listInvocations(id) };
  }

  async cancelRun(id: string): Promise<RunRecord> {
    const cancelled = await this.executor.cancel(id);
    if (cancelled) return cancelled;
    if (await this.waiting?.cancelParked(id)) return (await this.storage.getRun(id))!;
    const run = await this.storage.getRun(id);
    if (!run) throw notFound(`run "${id}"`);
    throw new ProblemError(409, 'Run not active', `run "${id}" is ${run.status}; only queued, running or waiting runs can be cancelled`);
  }

  /** Resolves when the run reaches a final state (used by the CLI's one-shot run and tests). */
  waitForRun(runId: string, timeoutMs = 60_000): Promise<RunRecord> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new Error(`run ${runId} did not finish within ${timeoutMs} ms`));
      }, timeoutMs);
      const off = this.events.add({
        runFinished: (run) => {
          if (run.id !== runId) return;
          clearTimeout(timer);
          off();
          resolve(run);
        },
      });
      // It may have finished before we listened.
      void this.storage.getRun(runId).then((run) => {
        if (run && ['succeeded', 'failed', 'cancelled'].includes(run.status)) {
          clearTimeout(timer);
          off();
          resolve(run);
        }
      });
    });
  }

  /**
   * Dashboard figures per minute over the last `minutes`: runs, failures, p95 duration; and active flows. With
   * `only`, just the flows it accepts count (a member sees their projects' figures; active runs are then those of
   * the window still unfinished).
   */
  async stats(minutes: number, only?: (flowId: string) => boolean) {
    const to = Date.now();
    const from = to - minutes * 60_000;
    const every = await this.storage.listRunTimings(from, 200_000);
    const timings = only ? every.filter((t) => only(t.flowId)) : every;
    const firstMinute = Math.floor(from / 60_000) * 60_000;
    const buckets = Array.from({ length: minutes + 1 }, (_, i) => ({ at: firstMinute + i * 60_000, runs: 0, failed: 0, durations: [] as number[] }));
    const all: number[] = [];
    let failed = 0;
    for (const t of timings) {
      const bucket = buckets[Math.floor((t.createdAt - firstMinute) / 60_000)];
      if (!bucket) continue;
      bucket.runs++;
      if (t.status === 'failed') {
        bucket.failed++;
        failed++;
      }
      if (t.startedAt !== null && t.finishedAt !== null) {
        bucket.durations.push(t.finishedAt - t.startedAt);
        all.push(t.finishedAt - t.startedAt);
      }
    }
    return {
      from,
      to,
      buckets: buckets.map((b) => ({ at: b.at, runs: b.runs, failed: b.failed, p95Ms: percentile(b.durations, 0.95) })),
      totals: { runs: timings.length, failed, p95Ms: percentile(all, 0.95) },
      activeFlows: only ? (await this.storage.listFlows()).filter((f) => only(f.flow.id) && this.executor.isDeployed(f.flow.id)).length : this.executor.deployedFlows,
      activeRuns: only ? timings.filter((t) => t.status === 'queued' || t.status === 'running' || t.status === 'waiting').length : this.executor.activeRuns,
    };
  }

  health() {
    return {
      status: 'ok' as const,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      storage: this.storage.dialect,
      activeRuns: this.executor.activeRuns,
      nodePacks: this.registry.packs.map((p) => ({ name: p.name, version: p.version, status: p.status, error: p.error, types: p.types.length })),
      webhooks: this.webhooks.list(),
    };
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.waiting?.stop();
    await this.leader?.stop(); // another main takes the cron triggers over at once
    // A worker first drains: no new jobs, the runs in progress finish (up to 30 s), the rest are handed over below.
    await this.queue?.close();
    const held = this.executor.activeRunIds();
    await this.leaseKeeper?.stop();
    await this.executor.close();
    await this.tracing?.shutdown().catch((e: unknown) => this.log.warn(`could not flush traces: ${(e as Error).message}`));
    // Given up after the clean stop is recorded: another runtime takes these runs over at once.
    await this.leaseKeeper?.release(held).catch((e: unknown) => this.log.warn(`could not release run leases: ${(e as Error).message}`));
    await (this.executor.options.outbound as OutboundGuard | undefined)?.close();
    await this.storage.close();
  }
}
