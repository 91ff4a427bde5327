/**
 * A test harness for node packs: create a node from its definition and feed it messages without a runtime.
 * Third-party pack authors use the same harness as we do (import from '@flowcrew/sdk/testing').
 */
import type {
  ContextStore,
  FlowMessage,
  InputContext,
  Logger,
  NodeDefinition,
  NodeInstance,
  NodeStatus,
  RuntimeServices,
  TriggerContext,
  TriggerReply,
  WebhookRoute,
  EmitOptions,
  EmitResult,
  ModelUsage,
  ToolCall,
  OutboundServices,
  DeclaredMcpServers,
} from './index.ts';
import { createServer } from 'node:net';
import { OutboundRefusedError } from './index.ts';
import { FileBlobStore, LiveCredential, ResourcePools, type ResourceScope } from './host/index.ts';
import { normaliseOutput, type PortMessage } from './index.ts';
import { envReader, substituteEnvProps } from './util/env.ts';

export { normaliseOutput };
/** @deprecated name kept for tests: a message with its output port. */
export type Sent = PortMessage;

/** A TCP port free on 127.0.0.1 right now, for a test server or a child process to listen on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export class MemoryContext implements ContextStore {
  readonly values = new Map<string, unknown>();
  get(key: string): unknown {
    return this.values.get(key);
  }
  set(key: string, value: unknown): void {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, value);
  }
  keys(): string[] {
    return [...this.values.keys()];
  }
}


export interface TestNode {
  instance: NodeInstance;
  statuses: NodeStatus[];
  logs: Array<{ level: keyof Logger; message: string; data?: unknown }>;
  debugs: unknown[];
  replies: TriggerReply[];
  webhooks: WebhookRoute[];
  progress: unknown[];
  usages: ModelUsage[];
  /** Errors the node reported to catch nodes with ctx.error (it succeeded all the same), with the input message then. */
  errors: Array<{ error: Error; msg: FlowMessage }>;
  toolCalls: ToolCall[];
  /** Messages the trigger emitted via TriggerContext.emit. */
  emitted: Array<{ msg: FlowMessage; options?: EmitOptions }>;
  /** The node's credential (when `options.credentials` was given), as the node sees it. */
  credential: LiveCredential | undefined;
  /** Change the credential's stored fields, as an edit through the API would: revision bumped, its resources retired. */
  changeCredential(fields: Record<string, unknown>): void;
  /** Resources this node holds right now (leases taken through services.resources and not released). */
  readonly resourcesHeld: number;
  context: { flow: MemoryContext; global: MemoryContext; node: MemoryContext };
  /** Feed one message; resolves with every message sent (returned or via ctx.send), in order, with its port. */
  input(msg: FlowMessage, options?: { attempt?: number; signal?: AbortSignal; invocationId?: string }): Promise<Sent[]>;
  /** Start a trigger with a recording TriggerContext. */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestNodeOptions {
  id?: string;
  flowNodes?: Array<{ id: string; type: string; name: string; props: Record<string, unknown> }>;
  credentials?: Record<string, unknown>;
  /** The credential's id and type (default 'test-credential' and the definition's credential type). */
  credential?: { id?: string; type?: string };
  services?: Partial<RuntimeServices>;
  /** What emit() resolves with; default: a fresh run id and, with awaitReply, a reply that never settles. */
  onEmit?: (msg: FlowMessage, options?: EmitOptions) => Promise<EmitResult>;
  /** Answers ctx.callTool in tests. */
  callTool?: (call: ToolCall) => Promise<FlowMessage[]>;
  /** Context the node starts with, e.g. another test node's (`old.context`), as a restart finds what was stored. */
  context?: Partial<TestNode['context']>;
  /** The flow's environment variables, as the runtime resolves them: `$env`, `env` typed values, `${NAME}` props. */
  env?: Record<string, string>;
}

/**
 * Outbound access when a test does not pass `services.outbound`: nothing, so a node under test never reaches the
 * network by accident. Give the real guard, allow-listing your local test servers explicitly, e.g.
 * `setTestServiceDefaults({ outbound: createOutboundGuard({ allow: ['127.0.0.1'] }) })` with createOutboundGuard from
 * '@flowcrew/runtime/outbound'.
 */
const noOutbound: OutboundServices = {
  fetch: (url) => Promise.reject(new OutboundRefusedError(`no outbound access in this test (${String(url)}): pass services.outbound or call setTestServiceDefaults`)),
  check: (host) => Promise.reject(new OutboundRefusedError(`no outbound access in this test (${String(host)}): pass services.outbound or call setTestServiceDefaults`)),
  dispatcher: undefined,
};

const noMcpServers: DeclaredMcpServers = {
  names: () => [],
  resolve: (name) => Promise.reject(new Error(`MCP server "${name}" is not declared (none are declared in this test; pass services.mcpServers)`)),
};

let serviceDefaults: Partial<RuntimeServices> = {};

/**
 * What the harness shares across the nodes of a test file, as a runtime does across its flows: resource pools (so
 * two test nodes with the same credential share one pool) and a blob store in a temporary directory.
 */
const testPools = new ResourcePools();
let testBlobs: Promise<FileBlobStore> | undefined;
const testCredentials = new Map<string, LiveCredential>();

/** The harness's resource pools (e.g. to check what is open: `testResources().list()`). */
export function testResources(): ResourcePools {
  return testPools;
}

/** The harness's blob store. */
export function testBlobStore(): Promise<FileBlobStore> {
  testBlobs ??= FileBlobStore.temporary();
  return testBlobs;
}

/** Close what the nodes of this file shared (pools, the temporary blob store): call it in afterAll. */
export async function closeTestServices(): Promise<void> {
  await testPools.closeAll();
  const blobs = testBlobs;
  testBlobs = undefined;
  await (await blobs)?.close();
}

/**
 * Services every createTestNode of this test file gets unless its options say otherwise (e.g. an allow-listed
 * outbound guard, declared MCP servers). Adds to (and replaces) what earlier calls set.
 */
export function setTestServiceDefaults(services: Partial<RuntimeServices>): void {
  serviceDefaults = { ...serviceDefaults, ...services };
}

export async function createTestNode<P>(definition: NodeDefinition<P>, props: Partial<P> = {}, options: TestNodeOptions = {}): Promise<TestNode> {
  const id = options.id ?? 'n1';
  const statuses: NodeStatus[] = [];
  const logs: TestNode['logs'] = [];
  const debugs: unknown[] = [];
  const replies: TriggerReply[] = [];
  const webhooks: WebhookRoute[] = [];
  const emitted: TestNode['emitted'] = [];
  const progress: unknown[] = [];
  const usages: ModelUsage[] = [];
  const errors: Array<{ error: Error; msg: FlowMessage }> = [];
  const toolCalls: ToolCall[] = [];
  const env = options.env ? envReader(options.env) : undefined;
  const context = { flow: new MemoryContext(), global: new MemoryContext(), node: new MemoryContext(), ...options.context, ...(env ? { env } : {}) };
  const log: Logger = {
    debug: (message, data) => logs.push({ level: 'debug', message, data }),
    info: (message, data) => logs.push({ level: 'info', message, data }),
    warn: (message, data) => logs.push({ level: 'warn', message, data }),
    error: (message, data) => logs.push({ level: 'error', message, data }),
  };
  const status = (s: NodeStatus) => statuses.push(s);
  let credential: LiveCredential | undefined;
  if (options.credentials) {
    const credentialId = options.credential?.id ?? 'test-credential';
    credential = testCredentials.get(credentialId);
    if (credential) credential.update(options.credentials);
    else {
      credential = new LiveCredential(credentialId, options.credential?.type ?? definition.credentials?.type ?? 'test', options.credentials);
      // Write-backs are kept in memory, as a vault would keep them (read them back from `credential.fields`).
      const written = credential;
      written.writer = async (patch) => ({ ...written.fields, ...patch });
      testCredentials.set(credentialId, credential);
    }
  }
  const resources: ResourceScope = testPools.scope();
  const blobs = await testBlobStore();
  const services: RuntimeServices = {
    registerWebhook(route) {
      webhooks.push(route);
      return () => webhooks.splice(webhooks.indexOf(route), 1);
    },
    registerWebSocket() {
      throw new Error('registerWebSocket is not available in this test; run the node in a runtime (startTestServer)');
    },
    async callFlow() {
      throw new Error('callFlow is not available in this test; pass options.services.callFlow');
    },
    listTools: () => [],
    dataDir: ':memory:',
    outbound: noOutbound,
    mcpServers: noMcpServers,
    resources,
    blobs,
    database: { dialect: 'sqlite' },
    ...serviceDefaults,
    ...options.services,
  };
  const instance = await definition.create({
    id,
    name: id,
    flowId: 'test-flow',
    props: (env ? substituteEnvProps(props, env) : props) as P,
    credentials: options.credentials,
    credential,
    log,
    status,
    context,
    flow: { id: 'test-flow', nodes: options.flowNodes ?? [] },
    services,
  });
  let runs = 0;
  let invocations = 0;
  const trigger: TriggerContext = {
    async emit(msg, emitOptions) {
      emitted.push({ msg, options: emitOptions });
      if (options.onEmit) return options.onEmit(msg, emitOptions);
      runs++;
      return { runId: `run-${runs}`, reply: emitOptions?.awaitReply ? new Promise<TriggerReply>(() => {}) : undefined };
    },
    log,
    status,
  };
  return {
    instance,
    statuses,
    logs,
    debugs,
    replies,
    webhooks,
    emitted,
    progress,
    usages,
    errors,
    toolCalls,
    context,
    credential,
    changeCredential(fields) {
      if (!credential) throw new Error('this test node has no credential: pass options.credentials');
      if (credential.update(fields)) testPools.retireCredential(credential.id, credential.revision);
    },
    get resourcesHeld() {
      return resources.held;
    },
    async input(msg, inputOptions = {}) {
      const sent: Sent[] = [];
      // Each input is its own invocation (inv-1, inv-2, ...); pass invocationId to replay one, as a resume does.
      const invocationId = inputOptions.invocationId ?? `inv-${++invocations}`;
      const ctx: InputContext = {
        runId: 'run-1',
        nodeId: id,
        flowId: 'test-flow',
        attempt: inputOptions.attempt ?? 1,
        idempotencyKey: `run-1:${id}:${invocationId}:${inputOptions.attempt ?? 1}`,
        log,
        status,
        send(out, port = 0) {
          if (out === null) return;
          for (const m of Array.isArray(out) ? out : [out]) sent.push({ port, msg: m });
        },
        debug: (value) => debugs.push(value),
        reply: (r) => replies.push(r),
        credentials: credential ? credential.fields : options.credentials,
        credential,
        context,
        signal: inputOptions.signal ?? new AbortController().signal,
        progress: (data) => progress.push(data),
        recordUsage: (usage) => usages.push(usage),
        error: (error) => void errors.push({ error: typeof error === 'string' ? new Error(error) : error, msg: structuredClone(msg) }),
        callTool: async (call) => {
          if (!options.callTool) throw new Error('callTool is not available in this test; pass options.callTool');
          toolCalls.push(call);
          return options.callTool(call);
        },
      };
      if (!instance.onInput) throw new Error(`${definition.type} has no onInput`);
      const returned = await instance.onInput(msg, ctx);
      return [...sent, ...normaliseOutput(returned)];
    },
    async start() {
      await instance.start?.(trigger);
    },
    async stop() {
      resources.undeploy();
      await instance.stop?.();
      await instance.close?.();
      // As the runtime does at undeploy: whatever the node still holds is released, closed if it was the last holder.
      resources.releaseAll({ closeNow: true });
    },
  };
}
