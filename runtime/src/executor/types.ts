/**
 * What the executor's modules share: the options, the in-memory shapes of a deployed flow and an active run, and the
 * hub each module reaches the others through (the Executor implements it; see executor.ts for who does what).
 */
import type {
  DeclaredMcpServers,
  FlowMessage,
  InputContext,
  Logger,
  ModelUsage,
  NodeDefinition,
  NodeInstance,
  OutboundServices,
  RetryPolicy,
  RuntimeServices,
  TriggerReply,
} from '@flowcrew/sdk';
import type { LiveCredential, ResourceScope } from '@flowcrew/sdk/host';
import type { FlowDocument, FlowNode } from '../flow/types.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import type { InvocationRecord, RetentionPolicy, RunRecord, Storage } from '../storage/types.ts';
import type { NodeLimits } from '../config.ts';
import type { ExecutionEvents } from './events.ts';
import type { CredentialInfo } from './credential-binding.ts';
import type { NodeServicesHost } from './node-services.ts';
import type { Redactor } from './redaction.ts';
import type { NodeRoles } from './roles.ts';

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
  /** The HTTP side of `registerWebSocket` (the server owns the upgrade); absent in runtimes without an HTTP server. */
  registerWebSocket?: RuntimeServices['registerWebSocket'];
  /**
   * An invocation interrupted this many times by the runtime dying while it ran is failed at resume instead of run
   * again (it may be what kills the runtime). Default 3.
   */
  maxInterruptions?: number;
  /** FLOWCREW_MAX_DEPTH, for error messages (storage enforces it); default 128. */
  maxDepth?: number;
  /** Context size caps and node log limits (defaults when absent). */
  nodeLimits?: NodeLimits;
  /** Where node, flow and global context are kept; default `storage` (context/dapr-state.ts: a Dapr state store). */
  contextStore?: import('./context.ts').ContextStorage;
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
  /** Start trigger nodes at deploy (default true). A queue worker runs flows but never starts them: mains do. */
  triggers?: boolean;
  /**
   * Queue mode, on a main: accepted runs are stored with an outbox row and executed by workers, not here.
   * `accepted` is told each committed run (to wake the relay); `awaitReply` waits for a worker's answer.
   */
  remote?: RemoteRuns;
  /** Human in the loop: ctx.waitForInput, parking and resume filtering (waiting/park.ts); absent = nodes cannot wait. */
  waiting?: import('../waiting/signal.ts').WaitingHooks;
  /** Queue mode, on a worker: the waiter a run taken from the queue answers (it forwards the reply to the main that waits). */
  replyTo?(run: RunRecord): ReplyWaiter | undefined;
  /**
   * The environment variables of a flow (its project's variables here, runtime/src/variables), resolved at each deploy:
   * handed to nodes as `context.env`, `${NAME}` props substituted, secret values redacted. Absent = no variables.
   */
  environment?(flow: FlowDocument, contexts?: FlowContexts): Promise<{ env: import('@flowcrew/sdk').EnvReader; secrets: readonly string[]; projectId?: string } | undefined>;
  /** Queue mode, on a worker: queued runs not started for want of a free slot of their flow's limit cluster-wide (resume.ts); their jobs wait and retry. */
  noSlot?(runIds: readonly string[]): void;
  /**
   * Queue mode, on a worker: deploy here the flows (the revisions they were accepted on) of runs about to be resumed
   * that this worker does not have; a worker deploys a flow when it first gets one of its runs, so one taking over a
   * dead worker's runs may never have had theirs. Failures are the worker's to log: such a run then fails as undeployed.
   */
  deployForResume?(runs: readonly RunRecord[]): Promise<void>;
}

/** The flow and global context a flow's variables may read while they are evaluated at deploy (Node-RED's `$flowContext` in a tab's env). */
export interface FlowContexts {
  flow: import('@flowcrew/sdk').ContextStore;
  global: import('@flowcrew/sdk').ContextStore;
}

export interface RemoteRuns {
  accepted(runId: string): void;
  /** Listen for the run's reply BEFORE it is committed (a worker may answer at once); resolves once listening. */
  awaitReply(runId: string, timeoutMs: number): Promise<{ reply: Promise<TriggerReply> }>;
}

export interface DeployedNode {
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

export interface DeployedFlow {
  flow: FlowDocument;
  nodes: Map<string, DeployedNode>;
  /** Nodes by the role the runtime gives them (error handlers, complete and status watchers, entries). */
  roles: NodeRoles;
  /** Runs executing now in this process, for the concurrency limit. */
  running: number;
  /** Runs accepted while the flow was at its limit, oldest first. */
  queued: ActiveRun[];
  /** Secrets of the credentials the flow uses, redacted from everything stored, sent live or logged (inactive without credentials). */
  redactor: Redactor;
  /**
   * The flow's project as stored (known at deploy when the runtime resolves the flow's environment; a flow never
   * changes project): its runs are accepted with it, so storage looks nothing up per run (Storage.acceptRun).
   */
  projectId?: string;
}

/** A reply waiter: a webhook (or sub-flow call) waiting for what the run answers. */
export interface ReplyWaiter {
  resolve(reply: TriggerReply): void;
  reject(error: Error): void;
  settled: boolean;
  timer?: NodeJS.Timeout;
  /** The request's reply handle (replies.ts), when it can be answered from any run; and the registry holding it. */
  handle?: string;
  handles?: import('./replies.ts').ReplyHandles;
  /** A node holds a message carrying the handle: the run's end leaves the answer to that message (or the timeout). */
  held?: boolean;
}

export interface ActiveRun {
  record: RunRecord;
  flow: DeployedFlow;
  /** Invocations dispatched or waiting to be, not yet committed as finished. */
  outstanding: number;
  seq: number;
  abort: RunAbort;
  /** First uncaught error; the run ends failed once its other branches finish. */
  failure: string | null;
  /** Invocations sleeping in a retry backoff. */
  backingOff: number;
  pending: InvocationRecord[];
  reply?: ReplyWaiter;
  /** The node whose call started this run (services.callFlow), while this process runs it: where its statuses go up. */
  caller?: RunCaller;
  /** Its last completion also deleted its history (retention): nothing to delete at its end. */
  historyDiscarded?: boolean;
  /**
   * Its first hops have started, or it was admitted to start (dispatch.ts): its later hops run at once. A field, not a
   * WeakSet of runs: every run went into one, and a weak table's entries cost every young-generation GC.
   */
  underWay: boolean;
}

/**
 * A calling node and the run it called from. Stored with the called run's input (subflows/caller-env.ts), so a run
 * resumed after a restart or on another worker still reads the caller's variables and reports statuses upward.
 */
export interface RunCaller {
  flowId: string;
  nodeId: string;
  runId: string;
  /** The calling run's own caller (nested sub-flow calls). */
  caller?: RunCaller;
}

/**
 * A run's cancellation. Its AbortController is made only when something asks for the signal (ctx.signal, a node
 * with a timeout, a retry's sleep): most runs never do, and making the controller and its signal for every run was
 * ~2 % of a run's CPU. Waits on async nodes register here instead of on the signal (one rejecter each, no listener).
 */
export class RunAbort {
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private readonly waits = new Set<(reason: unknown) => void>();
  /** Set by the first abort(); never reset. */
  aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** The first abort's reason. */
  get reason(): unknown {
    return this.abortReason;
  }

  /** Abort once (later calls change nothing, as AbortController's): the signal aborts and every registered wait is rejected. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
    for (const stop of this.waits) stop(reason);
    this.waits.clear();
  }

  /** `stop` is called with the reason when the run aborts (the caller checks `aborted` first). */
  addWait(stop: (reason: unknown) => void): void {
    this.waits.add(stop);
  }

  deleteWait(stop: (reason: unknown) => void): void {
    this.waits.delete(stop);
  }

  /** Waits registered now (tests). */
  get waiting(): number {
    return this.waits.size;
  }
}

/** What one invocation accumulates besides its outputs: model usage and the tool calls it made. */
export interface InvocationScope {
  usage: ModelUsage | null;
  /** Finished tool-call invocations, committed together with the caller's completion. */
  tools: InvocationRecord[];
  /** Errors reported with ctx.error, each with the input message as it was then; routed to error handlers on success. Made on the first. */
  reported?: ReportedError[];
}

/** An error a node reported to catch nodes while succeeding (InputContext.error). */
export interface ReportedError {
  error: Error;
  msg: FlowMessage;
}

/** A run cannot start: the flow is not deployed, or it has no such entry node. */
export class CannotStartRunError extends Error {}

export class DeployError extends Error {
  constructor(
    message: string,
    readonly nodeId?: string,
    /** Every node that failed the deploy, when several did (each reported, so a user fixes them in one pass). */
    readonly nodes: Array<{ nodeId: string; message: string }> = nodeId ? [{ nodeId, message }] : [],
  ) {
    super(message);
  }
}

export const NO_RETRY: RetryPolicy = { maxAttempts: 1, backoffMs: 0 };

export function addUsage(total: ModelUsage | null, more: ModelUsage): ModelUsage {
  if (!total) return { ...more };
  const sum = (a?: number, b?: number) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
  return {
    model: more.model ?? total.model,
    promptTokens: sum(total.promptTokens, more.promptTokens),
    completionTokens: sum(total.completionTokens, more.completionTokens),
    costUsd: sum(total.costUsd, more.costUsd),
  };
}

/**
 * How the executor's modules reach each other (the Executor implements it). Each module owns one concern:
 * deploy.ts flows and triggers, admission.ts run admission and per-flow concurrency, dispatch.ts where and how an
 * invocation runs, routing.ts/roles.ts where messages go next, tools.ts tool calls and sub-flows.
 */
export interface ExecutorHub {
  /** The options, with `events` wrapped so every report about a flow passes its redactor. */
  readonly options: ExecutorOptions;
  readonly deployed: Map<string, DeployedFlow>;
  /** Runs this process executes (running or queued behind the flow's concurrency limit). */
  readonly active: Map<string, ActiveRun>;
  /** Reply handles of the requests waiting in this process (msg._replyTo; replies.ts). */
  readonly replies: import('./replies.ts').ReplyHandles;
  /** Set once close() started: nothing more is written for runs in flight. */
  readonly closing: boolean;
  readonly nodeServices: NodeServicesHost;
  readonly deployer: import('./deploy.ts').Deployer;
  readonly admission: import('./admission.ts').RunAdmission;
  readonly dispatcher: import('./dispatch.ts').InvocationDispatcher;
  readonly tools: import('./tools.ts').ToolCalls;
  /** What nodes get as `init.services` (tools get a webhook registration that refuses). */
  services(registerWebhook: RuntimeServices['registerWebhook']): RuntimeServices;
  /** Prefixed, size-capped and rate-limited per node; with the run's id on its lines when given. */
  nodeLogger(flowId: string, nodeId: string, label: string, redactor: Redactor, runId?: string): Logger;
  /** The executor's own lines about a run carry its runId and flowId. */
  runLog(run: ActiveRun): Logger;
}
