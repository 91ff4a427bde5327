/**
 * Shapes of the runtime's REST API (/api/v1) and live events, as the editor uses them (the OpenAPI document is
 * GET /api/v1/openapi.json). Records the runtime already declares (flow documents, runs, invocations, node types,
 * credential summaries) are its own types, imported type-only: Vite erases these imports, so no runtime code is
 * bundled. The rest are shapes only the API and the editor know.
 */
import type { FlowIssue as Issue } from '../../../runtime/src/flow/types.ts';
import type { NodeTypeDescription, RegistryChange } from '../../../runtime/src/registry/registry.ts';
import type { InvocationRecord, RunRecord, RunStatus } from '../../../runtime/src/storage/types.ts';
import type { oidcClientInfo } from '../../../runtime/src/identity/oidc-config.ts';
import type { UserView } from '../../../runtime/src/identity/types.ts';

export type { FlowDocument, FlowGroup, FlowNode, FlowIssue as Issue, FlowView, ImportResult } from '../../../runtime/src/flow/types.ts';
export type { InvocationRecord, RunRecord, RunStatus } from '../../../runtime/src/storage/types.ts';
export type { CredentialSummary as CredentialInfo } from '../../../runtime/src/credentials.ts';
export type { PinnedOutput, PinnedMessage } from '../../../runtime/src/flowtest/pins.ts';
export type { PinRecord } from '../../../runtime/src/pins/store.ts';
export type { PackInfo } from '../../../runtime/src/registry/registry.ts';
export type { ProjectView } from '../../../runtime/src/identity/types.ts';
export type { ProjectRole } from '../../../runtime/src/identity/actor.ts';
export type { CatalogEntry, PackDetails, PackVersionInfo } from '../../../runtime/src/packs/npm-registry.ts';
export type { PackOperationResult, PackProgress } from '../../../runtime/src/packs/palette.ts';
import type { PackProgress } from '../../../runtime/src/packs/palette.ts';
export type { PinnedRunAnswer } from '../../../runtime/src/pins/service.ts';

export type JsonSchema = { [keyword: string]: unknown };

// ---- Sign-in ----

export type { UserView } from '../../../runtime/src/identity/types.ts';

/** Where the editor signs in when the runtime is configured for an OpenID Connect provider (Keycloak). */
export type OidcInfo = NonNullable<ReturnType<typeof oidcClientInfo>>;

/** GET /auth/status (public). */
export interface AuthStatus {
  /** No user exists yet: the editor asks for the first admin. */
  setupRequired: boolean;
  /** The signed-in user (session cookie), else null. */
  user: UserView | null;
  /** Sent back in X-CSRF-Token on unsafe requests made with the session cookie. */
  csrfToken?: string;
  oidc: OidcInfo | null;
}

/**
 * GET /node-types. The runtime types a node's props schema (and its credentials schema) as `unknown`; over JSON
 * each is a JSON Schema object, which is what the editor's forms and validation read.
 */
export type NodeTypeInfo = NodeTypeDescription & {
  props: JsonSchema;
  credentials?: NonNullable<NodeTypeDescription['credentials']> & { schema: JsonSchema };
};

/** GET /credential-types: what a pack declares about a credential (the form's schema; secret fields are writeOnly). */
export interface CredentialTypeInfo {
  name: string;
  pack: string;
  label: string;
  description?: string;
  schema: JsonSchema;
  secretFields: string[];
  /** Whether "Test connection" is offered. */
  testable: boolean;
}

/** POST /credentials/test and /credentials/{id}/test: the test ran (ok or not) and what happened, never a secret. */
export interface CredentialTestResult {
  ok: boolean;
  message: string;
  type: string;
  durationMs: number;
}

/** application/problem+json */
export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  errors?: Issue[];
  [extra: string]: unknown;
}

export interface RunDetail extends RunRecord {
  invocations: InvocationRecord[];
}

/** GET /stats?minutes=60 (dashboard). */
export interface StatsBucket {
  /** Epoch ms of the minute's start. */
  at: number;
  runs: number;
  failed: number;
  p95Ms: number | null;
}

export interface Stats {
  from: number;
  to: number;
  buckets: StatsBucket[];
  totals: { runs: number; failed: number; p95Ms: number | null };
  activeFlows: number;
}

// ---- Socket.IO live events ----

/** A JSON preview, cut by the runtime to its preview size. */
export interface Preview {
  json: string;
  truncated: boolean;
}

export interface RunStartedEvent {
  /** A test run's events (pins/live.ts), sent only to the editor that started it. */
  test?: boolean;
  runId: string;
  flowId: string;
  /** The node the run entered at (a trigger, or the node a manual run was started at); null for none. */
  triggerNodeId: string | null;
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
}

export interface RunFinishedEvent {
  test?: boolean;
  runId: string;
  flowId: string;
  status: RunStatus;
  error: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface NodeStartedEvent {
  runId: string;
  flowId: string;
  nodeId: string;
  invocationId: string;
  attempt: number;
  input: Preview;
}

export interface NodeFinishedEvent {
  test?: boolean;
  runId: string;
  flowId: string;
  nodeId: string;
  invocationId: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'cancelled' | 'pending';
  error: string | null;
  durationMs: number;
  outputs: Array<{ port: number; msg: Preview }>;
}

/**
 * A debug node's message, live or fetched from GET /flows/:id/debug?after=<seq>: the runtime's own type. `seq` only
 * increases, across flows and across runtime restarts.
 */
import type { DebugMessage as DebugEvent } from '../../../runtime/src/live/debug-buffer.ts';
export type { DebugEvent };
/** A test run's debug message (pins/live.ts): marked, and without a seq (it is not in the flow's catch-up buffer). */
export type TestDebugEvent = Omit<DebugEvent, 'seq'> & { test: true };

export interface NodeStatusEvent {
  flowId: string;
  nodeId: string;
  status: { fill?: string; shape?: string; text?: string };
}

export interface NodeProgressEvent {
  flowId: string;
  runId: string;
  nodeId: string;
  invocationId: string;
  data: unknown;
}

export interface LiveEvents {
  'run:started': RunStartedEvent;
  'run:finished': RunFinishedEvent;
  'node:started': NodeStartedEvent;
  'node:finished': NodeFinishedEvent;
  debug: DebugEvent | TestDebugEvent;
  /** Pushed after subscribing to a flow with `debugAfter`: its buffered messages numbered above it, oldest first. */
  'debug:catchup': { flowId: string; messages: DebugEvent[]; error?: string };
  'node:status': NodeStatusEvent;
  /** A node pack was installed, upgraded, removed, disabled or enabled: the palette reloads. */
  'node-types:changed': RegistryChange;
  /** Live data a node pushes while it runs (an AI agent's streamed tokens, tool calls): not stored. */
  'node:progress': NodeProgressEvent;
  /** npm's output while a pack installs or is removed (instance admins only). */
  'pack:progress': PackProgress;
  /** Your access changed: the live view of a flow or run (`flow:<id>`, `run:<id>`) was dropped, and why. */
  'subscription:dropped': { room: string; reason: string };
  /** A question runs wait on was asked, answered, timed out, escalated or cancelled in a project where you read runs. */
  'waits:changed': import('../../../runtime/src/waiting/waiting.ts').WaitChange;
}

/**
 * One task of an AI crew as a run shows it: an item of the crew node's msg.crew.tasks and a task step's output (the
 * pack's own CrewTaskOutcome, plus the task's display name). Read from stored runs, so any field may be missing.
 */
import type { CrewTaskOutcome } from '../../../nodes/ai/src/crew/crew.ts';
export type CrewTaskResult = Partial<CrewTaskOutcome> & { name?: string };
