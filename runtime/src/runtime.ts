/**
 * The runtime facade: everything the REST API, Socket.IO and the CLI can do, in one place, with no HTTP in it.
 * Route handlers stay thin so one authorisation layer can later wrap them all. This file wires the parts together
 * (create, boot, resume, close); flow operations live in runtime-flows.ts and run operations in runtime-runs.ts.
 */
import path from 'node:path';
import type { Logger } from '@flowcrew/sdk';
import type { RuntimeConfig } from './config.ts';
import { CredentialVault } from './credentials.ts';
import { EventFanout } from './executor/events.ts';
import { DebugBuffer } from './live/debug-buffer.ts';
import { Executor } from './executor/executor.ts';
import { LeaseKeeper } from './cluster/lease-keeper.ts';
import type { DeploySync } from './cluster/deploy-sync.ts';
import { followDeploysOverPostgres } from './cluster/pg-channel.ts';
import { electTriggerLeader, type LeaderElection } from './cluster/leader.ts';
import type { QueueMode } from './queue/mode.ts';
import { validateFlowAsync } from './flow/validate.ts';
import { WebhookRouter } from './api/webhooks.ts';
import { WebSocketRouter } from './api/websockets.ts';
import { declaredMcpServers, loadDeclarations } from './mcp/declared-servers.ts';
import { createOutboundGuard, type OutboundGuard } from './outbound/index.ts';
import { NodeRegistry } from './registry/registry.ts';
import { pinnedOutputNode } from './flowtest/pins.ts';
import { openSubflowLibrary, type SubflowLibrary } from './subflows/library.ts';
import { openVariables, type Variables } from './variables/index.ts';
import { flowVariablesOnly } from './variables/flow-env.ts';
import { startLibrarySync, type LibrarySync } from './packs/library-sync.ts';
import { testCredential, type CredentialTestAnswer, type CredentialTestInput } from './credential-test.ts';
import { openStorage } from './storage/index.ts';
import { daprContextFromEnv } from './context/dapr-state.ts';
import type { RunTracing } from './tracing/tracing.ts';
import { createWaiting, type WaitingRuns } from './waiting/waiting.ts';
import { createLogger, moduleLogger, withFields, type RuntimeLogger } from './logging/logger.ts';
import type { Storage } from './storage/types.ts';
import { RuntimeFlows } from './runtime-flows.ts';
import { RuntimeRuns } from './runtime-runs.ts';

/** The runtime's logger as configured (FLOWCREW_LOG_LEVEL, FLOWCREW_LOG_LEVELS, FLOWCREW_LOG_FORMAT): see logging/logger.ts. */
export function loggerFor(config: Pick<RuntimeConfig, 'logLevel' | 'logLevels' | 'logFormat'>): RuntimeLogger {
  return createLogger({ level: config.logLevel, levels: config.logLevels, format: config.logFormat });
}
export { createLogger };

export class Runtime {
  readonly startedAt = Date.now();
  /** WebSocket endpoints nodes serve under /webhook (the HTTP server hands upgrades to it). */
  websockets = new WebSocketRouter();
  /** For readiness (/health/ready): flows that could not be deployed at start, and where resuming runs stands. */
  readonly startup = { flowsLoaded: false, undeployable: [] as string[], resume: 'pending' as 'pending' | 'running' | 'done' | 'failed' };
  private pruneTimer?: NodeJS.Timeout;
  /** Run leases, when runtimes share PostgreSQL (set at boot). */
  leaseKeeper?: LeaseKeeper;
  /** Embedded runtimes sharing PostgreSQL follow each other's deploys (cluster/pg-channel.ts). */
  private deploySync?: DeploySync;
  /** Queue mode (FLOWCREW_MODE=main|worker): the outbox relay or the queue worker; undefined when embedded. */
  queue?: QueueMode;
  /** The sub-flow library (subflows/library.ts); undefined without SQL storage. */
  subflows?: SubflowLibrary;
  /** Per-project environment variables (variables/): what flows read at deploy; undefined without SQL storage. */
  variables?: Variables;
  /** Queue mode: installed packs and published sub-flows announced to the other processes (packs/library-sync.ts). */
  librarySync?: LibrarySync | null;
  /** Runtimes sharing PostgreSQL: the election of the one that fires cron and repeating inject triggers. */
  leader?: LeaderElection;
  /** OpenTelemetry traces of runs; null unless an OTLP endpoint is set (tracing/tracing.ts). */
  tracing: RunTracing | null = null;
  /** Human in the loop: questions runs wait on (waiting/waiting.ts). */
  waiting?: WaitingRuns;
  /** Flow and run operations, in files of their own; the methods below delegate to them. */
  private readonly flowOps: RuntimeFlows;
  private readonly runOps: RuntimeRuns;

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
  ) {
    this.flowOps = new RuntimeFlows(storage, executor, registry, config, log);
    this.runOps = new RuntimeRuns(storage, executor, events, this);
  }

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
    // BullMQ and ioredis (~300 modules) are imported only by a main or a worker, never by an embedded runtime.
    const queue = await (config.cluster.mode === 'embedded' ? Promise.resolve(null) : import('./queue/mode.ts').then(({ QueueMode }) => QueueMode.open(config.cluster, storage, moduleLogger(log, 'executor')))).catch(async (error: unknown) => {
      await storage.close().catch(() => {});
      throw error;
    });
    const variables = openVariables({ storage, vault, passthrough: config.envPassthrough, log: moduleLogger(log, 'runtime') });
    const executor = new Executor({
      ...queue?.executorOptions(),
      environment: variables?.environment ?? flowVariablesOnly({ passthrough: config.envPassthrough, log: moduleLogger(log, 'runtime') }),
      storage,
      contextStore: daprContextFromEnv(), // FLOWCREW_CONTEXT_STORE=dapr (docs/dapr.md); default: storage
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
    runtime.variables = variables;
    waiting?.attach(executor, events);
    // Queue mode: an answer given on a main sends the run back to the workers.
    if (queue?.mode === 'main' && waiting) waiting.requeue = (runId) => queue.requeueParked(runId);
    // OpenTelemetry's SDK and exporter (~270 modules) are imported only when an OTLP endpoint is set (fromEnv decides the rest).
    if (process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT) runtime.tracing = (await import('./tracing/tracing.ts')).RunTracing.fromEnv(runtime);
    runtime.deploySync = (await followDeploysOverPostgres({ databaseUrl: config.databaseUrl, mode: config.cluster.mode, instance: config.cluster.instanceId, storage, executor, registry, log: moduleLogger(log, 'runtime'), maxDepth: config.maxDepth })) ?? undefined;
    runtime.leader = (await electTriggerLeader({ databaseUrl: config.databaseUrl, cluster: config.cluster, hasLeases: !!storage.leases, deployer: executor.deployer, log: moduleLogger(log, 'runtime') })) ?? undefined;
    // Library sub-flows are node types: registered before the stored flows that use them are deployed.
    runtime.subflows = await openSubflowLibrary({ storage, registry, executor, log: moduleLogger(log, 'runtime') });
    runtime.librarySync = await startLibrarySync({ cluster: config.cluster, databaseUrl: config.databaseUrl, registry, subflows: runtime.subflows, storage, userNodesDir: config.userNodesDir, npmRegistryUrl: config.npmRegistryUrl, log: moduleLogger(log, 'runtime') });
    await runtime.boot(options.loadExamples ?? true);
    return runtime;
  }

  private async boot(loadExamples: boolean): Promise<void> {
    // Shared PostgreSQL: runs accepted from here on carry this runtime's lease (cluster/lease-keeper.ts).
    const leases = this.storage.leases;
    // A main executes no runs, so it holds no leases: the runs it accepts wait, nobody's, for a worker.
    if (leases && this.config.cluster.mode !== 'main') this.leaseKeeper = new LeaseKeeper({ leases, executor: this.executor, log: moduleLogger(this.log, 'executor'), owner: this.config.cluster.instanceId, ttlMs: this.config.cluster.leaseTtlMs });
    if (loadExamples && this.config.flowsDir) await this.flowOps.loadExampleFlows(this.config.flowsDir);
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
    this.queue?.start({ executor: this.executor, events: this.events, registry: this.registry, maxDepth: this.config.maxDepth, debugLog: this.debugLog, previewChars: this.config.previewChars, waiting: this.waiting });
    if (resumed > 0) this.log.info(`resumed ${resumed} interrupted run(s)`);
    return resumed;
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

  // ---- flows (runtime-flows.ts) ----
  listFlows(...a: Parameters<RuntimeFlows['listFlows']>) { return this.flowOps.listFlows(...a); }
  getFlow(...a: Parameters<RuntimeFlows['getFlow']>) { return this.flowOps.getFlow(...a); }
  validate(...a: Parameters<RuntimeFlows['validate']>) { return this.flowOps.validate(...a); }
  validateAsync(...a: Parameters<RuntimeFlows['validateAsync']>) { return this.flowOps.validateAsync(...a); }
  createFlow(...a: Parameters<RuntimeFlows['createFlow']>) { return this.flowOps.createFlow(...a); }
  updateFlow(...a: Parameters<RuntimeFlows['updateFlow']>) { return this.flowOps.updateFlow(...a); }
  deleteFlow(...a: Parameters<RuntimeFlows['deleteFlow']>) { return this.flowOps.deleteFlow(...a); }
  deployFlow(...a: Parameters<RuntimeFlows['deployFlow']>) { return this.flowOps.deployFlow(...a); }
  undeployFlow(...a: Parameters<RuntimeFlows['undeployFlow']>) { return this.flowOps.undeployFlow(...a); }
  importFlows(...a: Parameters<RuntimeFlows['importFlows']>) { return this.flowOps.importFlows(...a); }
  exportFlow(...a: Parameters<RuntimeFlows['exportFlow']>) { return this.flowOps.exportFlow(...a); }

  // ---- runs (runtime-runs.ts) ----
  startRun(...a: Parameters<RuntimeRuns['startRun']>) { return this.runOps.startRun(...a); }
  rerun(...a: Parameters<RuntimeRuns['rerun']>) { return this.runOps.rerun(...a); }
  listRuns(...a: Parameters<RuntimeRuns['listRuns']>) { return this.runOps.listRuns(...a); }
  getRun(...a: Parameters<RuntimeRuns['getRun']>) { return this.runOps.getRun(...a); }
  cancelRun(...a: Parameters<RuntimeRuns['cancelRun']>) { return this.runOps.cancelRun(...a); }
  waitForRun(...a: Parameters<RuntimeRuns['waitForRun']>) { return this.runOps.waitForRun(...a); }
  stats(...a: Parameters<RuntimeRuns['stats']>) { return this.runOps.stats(...a); }


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
    this.librarySync?.close();
    await this.waiting?.stop();
    await this.leader?.stop(); // another main takes the cron triggers over at once
    this.deploySync?.close();
    // A worker first drains: no new jobs, the runs in progress finish (up to 30 s), the rest are handed over below.
    await this.queue?.close();
    const held = this.executor.activeRunIds();
    await this.leaseKeeper?.stop();
    await this.executor.close();
    await this.tracing?.shutdown().catch((e: unknown) => this.log.warn(`could not flush traces: ${(e as Error).message}`));
    // Given up after the clean stop is recorded: another runtime takes these runs over at once.
    await this.leaseKeeper?.release(held).catch((e: unknown) => this.log.warn(`could not release run leases: ${(e as Error).message}`));
    await (this.executor.options.outbound as OutboundGuard | undefined)?.close();
    await this.executor.options.contextStore?.flush?.();
    await this.storage.close();
  }
}
