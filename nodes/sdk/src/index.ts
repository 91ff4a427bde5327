/**
 * @flowcrew/sdk: the one contract every node pack is written against, ours and third-party alike.
 * Nothing here imports the runtime; the runtime implements these interfaces.
 *
 * A node type = a serialisable definition (type, label, JSON Schema of props, ports, help)
 * + `create(init)`, called once per node at deploy, returning the instance that handles messages.
 * Work that can be done once (compiling a JSONata expression, preparing a sandbox) belongs in `create`.
 */

import type { NodeCredential, CredentialTypeDefinition } from './credential-types.ts';
import type { ResourceServices } from './resources.ts';
import type { BlobServices } from './blobs.ts';
import type { NodeRole } from './roles.ts';
import type { TriggerReply, WebhookRoute, WebSocketRoute } from './webhooks.ts';
import type { OutboundServices } from './outbound.ts';
import type { DeclaredMcpServers } from './mcp.ts';
import type { EnvReader } from './util/env.ts';
import { getMessagePropertyOrUndefined, setMessageProperty } from './util/property.ts';

export * from './credential-types.ts';
export * from './resources.ts';
export * from './blobs.ts';
export * from './delivery.ts';
export * from './roles.ts';
export * from './lazy.ts';
export * from './webhooks.ts';
export * from './outbound.ts';
export * from './mcp.ts';
export * from './steps.ts';
export type { EnvReader } from './util/env.ts';

/**
 * The node contract's version. A pack states the one it was written against in its package.json
 * (`"flowcrew": { "sdkApi": 1 }`); the runtime refuses a pack that needs a newer one. Raised when a pack written
 * for the new contract would not work on an older runtime (a new required service, a changed signature).
 */
export const SDK_API_VERSION = 1;

/** A JSON Schema (draft 2020-12) object. Kept loose on purpose: packs write plain schema literals. */
export type JsonSchema = { [keyword: string]: unknown };

/** A message travelling along a wire. Node-RED shaped: `payload` and `topic` by convention, anything else allowed. */
export interface FlowMessage {
  payload?: unknown;
  topic?: string;
  _msgid?: string;
  [key: string]: unknown;
}

export type NodeCategory = 'trigger' | 'transform' | 'flow' | 'function' | 'network' | 'parser' | 'output' | 'ai' | 'connector' | 'other';

/**
 * How many output ports a node has: a fixed number, or taken from one of its props
 * (an integer prop gives the count, an array prop gives its length), plus `extra`.
 * Serialisable so the editor can draw ports without running pack code.
 */
export type OutputPorts = number | { prop: string; extra?: number; min?: number };

export interface NodeStatus {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

/** Key/value context, as Node-RED's flow and global context. Values must be JSON-serialisable; writes persist. */
export interface ContextStore {
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  keys(): string[];
}

/** What the runtime tells a node about itself when it is created at deploy. */
export interface NodeInit<P = Record<string, unknown>> {
  id: string;
  name: string;
  flowId: string;
  /** The project the flow belongs to (absent in hosts without projects), for data a pack keeps per project. */
  projectId?: string;
  props: P;
  /** Decrypted credentials of the node's credentials reference, if any, as they were at deploy (see `credential`). */
  credentials: Record<string, unknown> | undefined;
  /** The node's credential, live: its fields change (and its revision goes up) when it is edited, without a redeploy. */
  credential?: NodeCredential;
  /** The credentials its props name at `credentials.inProps`, by id, decrypted as they were at deploy. */
  moreCredentials?: Record<string, Record<string, unknown>>;
  log: Logger;
  status(status: NodeStatus): void;
  /** Context stores, and the flow's environment variables (`env`, absent in hosts without variables: read ""). */
  context: { flow: ContextStore; global: ContextStore; node: ContextStore; env?: EnvReader };
  /** The other nodes of the same deployed flow (id, type, props), e.g. for a catch node's scope or a webhook looking for its response node. */
  flow: { id: string; nodes: ReadonlyArray<{ id: string; type: string; name: string; props: Record<string, unknown> }> };
  /** Services the runtime offers to triggers and nodes (HTTP webhooks, sub-flow calls, ...). */
  services: RuntimeServices;
}

/** Per message, per attempt. Its functions are methods: call them on ctx (`ctx.send(msg)`), don't detach them. */
export interface InputContext {
  runId: string;
  nodeId: string;
  flowId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** `runId:nodeId:invocationId:attempt`: stable across a resume, so a node with side effects can de-duplicate. */
  idempotencyKey: string;
  log: Logger;
  status(status: NodeStatus): void;
  /** Send a message on an output port (default 0) before or instead of returning. */
  send(msg: FlowMessage | FlowMessage[] | null, port?: number): void;
  /**
   * Report an error to the flow's catch nodes while the invocation still succeeds: what it returns or sends goes on
   * along the wires too (Node-RED's `node.error(err, msg)` followed by `send`, e.g. its http request node on a network
   * failure). The catch nodes get the input message as it is at this call, with `msg.error`; the error is logged; the
   * run does not fail unless a handler fails it. To fail the invocation instead, throw. Absent in hosts without it.
   */
  error?(error: Error | string): void;
  /** Emit a debug message to the editor's debug sidebar (the debug node uses this). */
  debug(value: unknown, meta?: { property?: string }): void;
  /** Answer the trigger that started this run (webhook response, RPC reply). */
  reply(reply: TriggerReply): void;
  /** The credential's fields as they are now (after an edit, the new ones). */
  credentials: Record<string, unknown> | undefined;
  /** The node's credential with its id and revision (see NodeInit.credential). */
  credential?: NodeCredential;
  /** Context stores, and the flow's environment variables (`env`, absent in hosts without variables: read ""). */
  context: { flow: ContextStore; global: ContextStore; node: ContextStore; env?: EnvReader };
  /** Aborted when the run is cancelled or the node's timeout passes. */
  signal: AbortSignal;
  /** Push a live progress event (e.g. streamed model tokens) to editors watching the run. Not stored. */
  progress(data: unknown): void;
  /** Record model usage (tokens, cost) on this invocation; stored with the run. Calls add up. */
  recordUsage(usage: ModelUsage): void;
  /**
   * Call another node type as a tool (an AI agent using the HTTP request node, a database query, ...).
   * The call is recorded as its own node invocation in this run, with `args` as props and `input` as message.
   */
  callTool(call: ToolCall): Promise<FlowMessage[]>;
  /**
   * Human in the loop: ask a person (in the editor, by API or by a signed link) and get the answer. The first call
   * parks the invocation: the promise rejects with a signal the node must let through (never catch it), and the run
   * waits in status `waiting` with no process holding it. Once answered (or timed out) the node is invoked again with
   * the same message and the same call resolves with the answer. Absent in hosts that cannot wait.
   */
  waitForInput?(request: WaitRequest): Promise<WaitAnswer>;
  /** Durable parts of this invocation, each a child invocation in the run (steps.ts). Absent in hosts without them. */
  steps?: import('./steps.ts').StepJournal;
}

/** A question for a person (see InputContext.waitForInput). */
export interface WaitRequest {
  /** Tells apart several questions asked by one invocation (a crew's tasks); default 'input'. */
  key?: string;
  title: string;
  /** What to decide, in Markdown. */
  message?: string;
  /** JSON Schema of the answer (the form); default: an approval `{approved: boolean, comment?: string}`. */
  schema?: JsonSchema;
  /** Shown with the question, e.g. the draft to review. */
  context?: unknown;
  /** Who may answer besides instance admins and project owners (user names or ids, project roles); none = anyone who may start runs. */
  assignees?: { users?: string[]; roles?: string[] };
  /** After this many ms the question closes with `timeoutAnswer`; 0 or absent = never. */
  timeoutMs?: number;
  /** The answer given at timeout; absent = the node gets `timedOut: true` and a null answer. */
  timeoutAnswer?: unknown;
  /** After `afterMs`, these users/roles may answer too and are notified. */
  escalation?: { afterMs: number; users?: string[]; roles?: string[] };
  /** A deployed flow called with the question and its signed link when asked (and when escalated): mail, chat... */
  notifyFlow?: string;
}

export interface WaitAnswer {
  answer: unknown;
  timedOut: boolean;
  /** Who answered (user name), null at timeout. */
  by: string | null;
  via: 'editor' | 'api' | 'link' | 'timeout';
  at: number;
}

/** One choice offered by a node's option source. */
export interface NodeOption {
  value: string;
  label?: string;
  description?: string;
}

export interface OptionsRequest<P = Record<string, unknown>> {
  /** The props as the form has them now (not validated: some may be missing). */
  props: Partial<P>;
  /** The decrypted fields of the node's credential, when one is attached. */
  credentials: Record<string, unknown> | undefined;
  services: RuntimeServices;
  /** Aborted when the runtime stops waiting (20 s). */
  signal: AbortSignal;
}

export interface ModelUsage {
  model?: string;
  promptTokens?: number;
  completionTokens?: number;
  costUsd?: number;
}

export interface ToolCall {
  /** Node type to run, which must declare `usableAsTool`. */
  type: string;
  /** Props for that node, checked against its JSON Schema. */
  props: Record<string, unknown>;
  /** Message handed to the node. */
  input?: FlowMessage;
  /** Credential id, when the tool node needs one. */
  credentials?: string;
  /** Label shown in the run view, e.g. the agent's tool name. */
  label?: string;
  /**
   * The key of the durable step (ctx.steps) this call is made for: it is stored under that step (or a part of it)
   * even when other steps finish first, e.g. a crew's async tasks side by side. Untagged calls go to the next step.
   */
  step?: string;
}

/**
 * What `onInput` may return, Node-RED style:
 * - a message: sent on port 0;
 * - an array with one entry per port: each entry a message, an array of messages, or null;
 * - undefined/null: nothing (beyond what `ctx.send` already sent).
 */
export type NodeOutput = FlowMessage | Array<FlowMessage | FlowMessage[] | null | undefined> | null | undefined | void;

/** A message with the output port it leaves on. */
export interface PortMessage {
  port: number;
  msg: FlowMessage;
}

/** Normalise what onInput returned (Node-RED conventions) into port/message pairs. */
export function normaliseOutput(output: unknown): PortMessage[] {
  if (output === undefined || output === null) return [];
  if (!Array.isArray(output)) return [{ port: 0, msg: output as FlowMessage }];
  const sent: PortMessage[] = [];
  output.forEach((entry, port) => {
    if (entry === undefined || entry === null) return;
    if (Array.isArray(entry)) {
      for (const msg of entry) if (msg !== undefined && msg !== null) sent.push({ port, msg: msg as FlowMessage });
    } else sent.push({ port, msg: entry as FlowMessage });
  });
  return sent;
}

export interface NodeInstance {
  /** Handle one message. Throwing fails the invocation (it is retried per the node's retry settings, then routed to catch nodes). */
  onInput?(msg: FlowMessage, ctx: InputContext): NodeOutput | Promise<NodeOutput>;
  /** Triggers: begin producing runs (register webhooks, start timers). Called after the whole flow is deployed. */
  start?(trigger: TriggerContext): void | Promise<void>;
  /** Triggers: stop producing runs. Called on redeploy, undeploy and shutdown. */
  stop?(): void | Promise<void>;
  /** Release resources (pools, isolates). Called after stop. */
  close?(): void | Promise<void>;
}

export interface EmitOptions {
  /** The output port the message leaves on (default 0), e.g. a trigger node's second output. */
  port?: number;
  /** Wait for a node in the run to call `ctx.reply` (e.g. a webhook-response node). */
  awaitReply?: boolean;
  /** How long to wait for the reply before giving up, in ms. */
  replyTimeoutMs?: number;
}

export interface EmitResult {
  runId: string;
  /** Present with `awaitReply`: settles with the reply, or rejects on run failure / timeout. */
  reply?: Promise<TriggerReply>;
}

export interface TriggerContext {
  /**
   * Start a run with `msg` as this node's output on port 0. Resolves once the run and its first step are committed
   * to storage (from then on a crash resumes the run, never loses it); rejects when they could not be stored.
   * A consumer acknowledges its broker only after this resolves, and lets the message be redelivered when it
   * rejects: `deliver()` (delivery.ts) does both, and dead-letters a message that keeps failing.
   */
  emit(msg: FlowMessage, options?: EmitOptions): Promise<EmitResult>;
  log: Logger;
  status(status: NodeStatus): void;
}

/** A node type usable as a tool, as an agent sees it. */
export interface ToolDescription {
  type: string;
  label: string;
  description: string;
  /** JSON Schema of the tool's parameters (the node's props schema). */
  parameters: JsonSchema;
}

export interface RuntimeServices {
  /**
   * The runtime's data directory, for packs that keep embedded data (e.g. a SQLite vector store): create your own
   * subdirectory named after your pack. ':memory:' for a throwaway runtime (keep data in memory then).
   */
  readonly dataDir: string;
  /** Node types that declare `usableAsTool`. */
  listTools(): ToolDescription[];
  /** Register a route under /webhook. Returns an unregister function. Throws if the method+path is taken. */
  registerWebhook(route: WebhookRoute): () => void;
  /**
   * Accept WebSocket connections at /webhook/<path> (the same public namespace as webhooks). Throws when another node
   * holds the path. Returns the function that stops accepting (open connections are closed).
   */
  registerWebSocket(route: WebSocketRoute): () => void;
  /**
   * Run another deployed flow: `msg` enters at its `subflow-in` node (or at `entryNodeId`, e.g. the link-in a
   * link call names), and the promise settles with the message its `subflow-out` node replies with (or rejects when
   * that run fails, is cancelled, or `signal` aborts).
   */
  callFlow(flowId: string, msg: FlowMessage, options: { signal: AbortSignal; parentRunId: string; timeoutMs?: number; entryNodeId?: string; caller?: SubflowCallerRef }): Promise<FlowMessage>;
  /**
   * The one way out to the network. Every node, model provider, MCP client and connector opens its connections
   * through this guard, which refuses loopback, private, link-local, CGNAT, multicast, unspecified, IPv4-mapped
   * and cloud-metadata addresses unless the administrator allow-lists them (FLOWCREW_OUTBOUND_ALLOW).
   */
  readonly outbound: OutboundServices;
  /** MCP servers that run as processes on this host, declared by the administrator (a flow can only pick one by name). */
  readonly mcpServers: DeclaredMcpServers;
  /**
   * Connections shared across nodes and flows, one per key (and credential revision), reference-counted, closed on
   * undeploy of their last holder and on credential change, health-checked. Never keep process-global pools.
   */
  readonly resources: ResourceServices;
  /** Large payloads stored once and passed by reference (claim check); row results in pages (see blobs.ts). */
  readonly blobs: BlobServices;
  /**
   * The runtime's own database, for packs that keep their data beside the runtime's (the AI pack's vector store):
   * its dialect, and for PostgreSQL its connection URL (never shown to users; do not put it in messages).
   */
  readonly database: RuntimeDatabase;
}

export type RuntimeDatabase = { dialect: 'sqlite' } | { dialect: 'postgres'; url: string };

export interface NodeDefinition<P = any> {
  /** Unique type name, e.g. 'switch' for core nodes, 'acme-crm-lookup' for a third-party pack. */
  type: string;
  category: NodeCategory;
  label: string;
  /** Icon name (a Material Symbols name) or URL. */
  icon?: string;
  /** Background colour on the canvas, CSS colour. */
  color?: string;
  /** 0 for triggers and sources, 1 otherwise. */
  inputs: 0 | 1;
  outputs: OutputPorts;
  /** Port labels shown in the editor. */
  outputLabels?: string[];
  /**
   * JSON Schema (draft 2020-12) of `props`; validated at save and deploy, defaults applied. The editor builds the
   * node's form from it, so write it for people:
   * - `title` is a field's label ("Response timeout (ms)"; without one the key is made readable), `description`
   *   the hint under it; `enum` values are the options of a select.
   * - Fields a mode uses only in that mode go in `if`/`then`/`else` (also inside `allOf`) or `dependentSchemas`:
   *   the editor shows a property listed in a `then` only while its `if` holds, e.g.
   *   `allOf: [{ if: { properties: { mode: { const: 'rate' } }, required: ['mode'] }, then: { properties: { rate: {} } } }]`
   *   (declare `rate` fully in `properties`; the `then` may stay `{}`).
   * - `format: 'javascript' | 'jsonata'` (or `x-editor: 'code'`) gets a code editor, `writeOnly` a masked input;
   *   JSONata and `'x-language': 'mustache'` fields get the expression editor (completion from the node's last input,
   *   live preview, syntax errors marked before deploy), as does a typed value (`to` + `tot`) whose type is `jsonata`.
   */
  props: JsonSchema;
  /**
   * If the node needs a stored credential: its type name and the JSON Schema of its fields. Only credentials of this
   * type can be attached (checked at save and deploy). Fields marked `writeOnly: true` in the schema are secrets:
   * their values are redacted wherever they reappear (run records, debug, live events, logs). When a pack declares
   * the credential type (`credentialTypes`), pass that type's schema here.
   */
  credentials?: {
    type: string;
    schema: JsonSchema;
    required?: boolean;
    /**
     * More credentials of the same type named in the props, at these JSON pointers, where a `*` segment stands for
     * every item of an array (a crew's agents each naming their model's credential): checked like the node's own
     * (type, project) at save and deploy, and handed over decrypted in `NodeInit.moreCredentials`.
     */
    inProps?: string[];
  };
  /** Markdown help shown in the editor. */
  help: string;
  /** This node may sit on a wiring cycle (e.g. a loop/delay node); cycles through other nodes are rejected. */
  allowsCycles?: boolean;
  /** The node may be handed to an AI agent as a tool; its props schema becomes the tool's parameters. */
  usableAsTool?: boolean;
  /**
   * Choices the editor's form fetches from the runtime (a GraphQL endpoint's operations, a WSDL's operations): a prop
   * whose schema says `"x-optionsSource": "<name>"` is offered what `optionSources[name]` answers, run with the props
   * filled in so far and the node's credential (POST /api/v1/node-types/{type}/options/{name}).
   */
  optionSources?: Record<string, (request: OptionsRequest<P>) => Promise<NodeOption[]>>;
  /**
   * Where several mains share one database (active-active), this trigger is started on one of them only, the elected
   * leader, and moves when the leader dies: for time-driven triggers (cron, a repeating inject) that would otherwise
   * fire once per main. Triggers fed from outside (webhooks, queue consumers) start on every main.
   */
  clusterSingleton?: boolean;
  /** Default retry/timeout for this node type; overridable per node in the flow. */
  defaults?: { retry?: RetryPolicy; timeoutMs?: number };
  /**
   * What the runtime does with this node beyond its wires: an error, status or completion handler with its scope
   * rule, a manual or sub-flow entry point, an HTTP entry (see roles.ts). The runtime knows no node type by name.
   */
  role?: NodeRole;
  /**
   * Checks the props schema cannot express (cross-field rules, embedded documents such as a crew's YAML), run at
   * validate, save, import and deploy once the props match the schema (defaults filled). Pure and fast: no I/O.
   * `error` issues make the flow invalid; `warning` issues are reported (validate and import responses) but allowed.
   */
  validate?(props: P): NodeIssue[];
  create(init: NodeInit<P>): NodeInstance | Promise<NodeInstance>;
}

/** A problem a node type's `validate` finds; `pointer` is a JSON pointer into the node's props ('/tasks/2/agent'). */
export interface NodeIssue {
  pointer: string;
  message: string;
  /** Default 'error'. */
  severity?: 'error' | 'warning';
}

export interface RetryPolicy {
  /** Total attempts including the first. 1 = no retry. */
  maxAttempts: number;
  /** Delay before the 2nd attempt, ms (default 1000); doubled each further attempt up to maxBackoffMs. */
  backoffMs?: number;
  maxBackoffMs?: number;
}

/** A node pack's module exports `nodes` (or a default export) as an array of definitions, and `credentialTypes` if it declares any. */
export interface NodePack {
  nodes: NodeDefinition[];
  credentialTypes?: CredentialTypeDefinition<any>[];
}

/** Identity helper that keeps the props type checked against the implementation. */
export function defineNode<P>(definition: NodeDefinition<P>): NodeDefinition<P> {
  return definition;
}

/** Error a node throws for a bad message (not worth retrying). */
export class NodeInputError extends Error {
  readonly retryable = false;
  constructor(message: string, readonly details?: unknown) {
    super(message);
    this.name = 'NodeInputError';
  }
}

/**
 * Read a property path from a message (`payload.items[0].id`, `msg.a["b c"]`) with Node-RED's path syntax; a missing
 * parent reads as undefined. The same parser as `@flowcrew/sdk/util` (getMessageProperty, which throws there instead).
 */
export function getProperty(target: unknown, path: string): unknown {
  return getMessagePropertyOrUndefined(target, path);
}

/** Write a property path, creating missing parents (Node-RED's RED.util.setMessageProperty). */
export function setProperty(target: Record<string, unknown>, path: string, value: unknown): void {
  setMessageProperty(target, path, value, true);
}

/** Delete a property path (an array index is spliced out). */
export function deleteProperty(target: Record<string, unknown>, path: string): void {
  setMessageProperty(target, path, undefined, false);
}

/**
 * The node that calls a flow (`services.callFlow`): a status reported inside the called flow and taken by no status
 * node there goes up to the caller's flow as if this node reported it (Node-RED's subflow instances).
 */
export interface SubflowCallerRef {
  flowId: string;
  nodeId: string;
}
