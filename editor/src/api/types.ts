/**
 * Shapes of the runtime's REST API (/api/v1) and live events, as the editor uses them.
 * They mirror the OpenAPI document (GET /api/v1/openapi.json); the editor depends on the API, never on runtime code.
 */

export type JsonSchema = { [keyword: string]: unknown };

export type OutputPorts = number | { prop: string; extra?: number; min?: number };

export interface NodeTypeInfo {
  type: string;
  pack: string;
  category: string;
  label: string;
  icon?: string;
  color?: string;
  inputs: number;
  outputs: OutputPorts;
  outputLabels?: string[];
  props: JsonSchema;
  credentials?: { type: string; schema: JsonSchema; required?: boolean };
  help: string;
  allowsCycles: boolean;
  usableAsTool: boolean;
}

export interface RetryPolicy {
  maxAttempts: number;
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface FlowNode {
  id: string;
  type: string;
  name?: string;
  position?: { x: number; y: number };
  props?: Record<string, unknown>;
  credentials?: string;
  wires?: string[][];
  retry?: RetryPolicy;
  timeoutMs?: number;
  disabled?: boolean;
}

export interface FlowDocument {
  format?: 'flowcrew/flow@1';
  id: string;
  name: string;
  version: number;
  description?: string;
  settings?: { concurrency?: number; nodeTimeoutMs?: number; retention?: 'all' | 'failed' | 'none' };
  nodes: FlowNode[];
}

/** GET /flows and GET /flows/:id return the document plus deployment state. */
export interface FlowView extends FlowDocument {
  deployed: boolean;
  deployedVersion: number | null;
  updatedAt: number;
}

/** One problem, located by a JSON pointer into the submitted document. */
export interface Issue {
  pointer: string;
  message: string;
  nodeId?: string;
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

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';

export interface RunRecord {
  id: string;
  flowId: string;
  flowVersion: number;
  status: RunStatus;
  triggerNodeId: string | null;
  input: unknown;
  error: string | null;
  parentRunId: string | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface InvocationRecord {
  id: string;
  runId: string;
  nodeId: string;
  nodeType: string;
  status: 'pending' | 'succeeded' | 'failed' | 'cancelled';
  attempt: number;
  input: unknown;
  outputs: Array<{ port: number; msg: unknown }> | null;
  error: string | null;
  parentId: string | null;
  seq: number;
  usage?: { model?: string; promptTokens?: number; completionTokens?: number; costUsd?: number } | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface RunDetail extends RunRecord {
  invocations: InvocationRecord[];
}

export interface ImportResult {
  source: 'flowcrew' | 'node-red';
  flows: Array<{ id: string; name: string; version: number; deployed: boolean }>;
  unmapped: Array<{ id: string; type: string; name?: string; flowId?: string; reason: string }>;
  warnings: string[];
}

export interface CredentialInfo {
  id: string;
  name: string;
  type: string;
  fields: string[];
  createdAt: number;
  updatedAt: number;
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
  runId: string;
  flowId: string;
  /** The trigger that started the run (sent by newer runtimes; its invocation has no node events of its own). */
  triggerNodeId?: string | null;
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
}

export interface RunFinishedEvent {
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

export interface DebugEvent {
  runId: string;
  flowId: string;
  nodeId: string;
  property?: string;
  at: number;
  value: Preview;
}

export interface NodeStatusEvent {
  flowId: string;
  nodeId: string;
  status: { fill?: string; shape?: string; text?: string };
}

export interface LiveEvents {
  'run:started': RunStartedEvent;
  'run:finished': RunFinishedEvent;
  'node:started': NodeStartedEvent;
  'node:finished': NodeFinishedEvent;
  debug: DebugEvent;
  'node:status': NodeStatusEvent;
}
