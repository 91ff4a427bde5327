/**
 * The one storage interface. The executor and API never write SQL; SQLite (default) and PostgreSQL implement this.
 *
 * Durability contract:
 * - `acceptRun` commits a run and its first pending invocations together, before the trigger is acknowledged.
 * - `completeInvocation` commits a finished invocation, the pending invocations it produced and an optional run
 *   update in ONE transaction, so a crash leaves either all of it or none of it.
 * - Writes are group-committed: calls made within the same few milliseconds share one transaction, and each
 *   returned promise settles when its transaction has committed.
 */
import type { FlowDocument } from '../flow/types.ts';
import type { IdentityStore } from './identity-types.ts';

export type RunStatus = 'queued' | 'running' | 'waiting' | 'succeeded' | 'failed' | 'cancelled';
export type InvocationStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface RunRecord {
  id: string;
  flowId: string;
  /** The deployed flow revision the run executes. */
  flowVersion: number;
  status: RunStatus;
  /** Node id of the trigger that started the run, or null for a manual run addressed to the flow. */
  triggerNodeId: string | null;
  /** The message the trigger emitted (JSON). */
  input: unknown;
  error: string | null;
  /** Parent run for sub-flow calls. */
  parentRunId: string | null;
  /** The project of the run's flow, set by the storage when the run is accepted (callers need not give it). */
  projectId?: string;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** A manual test run from the editor (its working copy, pinned outputs), stored after it ran isolated (pins/history.ts). */
  test?: boolean;
}

export interface RunTiming {
  flowId: string;
  status: RunStatus;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface OutputRecord {
  port: number;
  msg: unknown;
}

export interface InvocationRecord {
  id: string;
  runId: string;
  nodeId: string;
  /** Node type at the time of the run, for display. */
  nodeType: string;
  status: InvocationStatus;
  /** Attempts made so far (0 while pending and never started). */
  attempt: number;
  input: unknown;
  outputs: OutputRecord[] | null;
  error: string | null;
  /** The invocation whose output produced this one; null for the trigger's. */
  parentId: string | null;
  /** Monotonic per run, for a stable order in the run view. */
  seq: number;
  /** Model usage (tokens, cost) the node reported, AI nodes only. */
  usage?: { model?: string; promptTokens?: number; completionTokens?: number; costUsd?: number } | null;
  /**
   * Times the runtime stopped without a clean shutdown while this invocation was in flight (a crash, kill -9):
   * counted at each resume, so a message that crashes the runtime is failed after a few restarts.
   */
  interruptions?: number;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export interface StoredFlow {
  flow: FlowDocument;
  /** The revision currently deployed (active), or null if not deployed. */
  deployedVersion: number | null;
  /** The deployed revision's document (it may differ from `flow` after later edits). */
  deployedFlow: FlowDocument | null;
  /** The project the flow belongs to ('default' unless created in another). */
  projectId: string;
  createdAt: number;
  updatedAt: number;
}

export interface RunFilter {
  flowId?: string;
  /** Only runs of flows in these projects (an empty list matches nothing). */
  projectIds?: readonly string[];
  status?: RunStatus;
  /** true: only test runs (the editor's manual runs, pins/history.ts); false: only real ones; absent: both. */
  test?: boolean;
  limit?: number;
  /** Return runs created strictly before this run id's creation (keyset pagination). */
  before?: string;
}

export type RetentionMode = 'all' | 'failed' | 'none';

export interface RetentionPolicy {
  mode: RetentionMode;
  /** Runs older than this (ms) are pruned whatever their status; 0 = no age limit. */
  maxAgeMs: number;
}

export interface CompleteInvocation {
  invocation: Pick<InvocationRecord, 'id' | 'status' | 'attempt' | 'outputs' | 'error' | 'startedAt' | 'finishedAt'> & { usage?: InvocationRecord['usage'] };
  next: InvocationRecord[];
  run?: RunUpdate;
  /** The run the invocation belongs to: lets the group commit keep a run's writes together (storage/group-commit.ts). */
  runId?: string;
  /**
   * The run ends with this completion and its history is not kept (retention): its rows are deleted in the same
   * transaction, or never written when its whole life is in one group commit (storage/run-writes.ts).
   */
  discardRun?: boolean;
}

/** How a run is accepted (Storage.acceptRun). */
export interface AcceptOptions {
  /** Also record the run in run_outbox, in the same transaction (queue mode: a relay enqueues it after commit). */
  outbox?: boolean;
  /**
   * The project of the run's flow as stored, when the caller knows it (the executor: its deployed flow's): the run is
   * stored with it as is. Without it, storage looks the flow's project up in the run's INSERT (a sub-plan per row:
   * ~30 µs per run on PostgreSQL, session 12), with `run.projectId` (or 'default') for a flow it does not find.
   */
  flowProject?: string;
}

export type RunUpdate = Partial<Pick<RunRecord, 'status' | 'error' | 'startedAt' | 'finishedAt'>> & { id: string };

export interface ResumableRun {
  run: RunRecord;
  /** Invocations still pending (never completed), in seq order. */
  pending: InvocationRecord[];
  /** Highest seq used so far, so new invocations continue after it. */
  maxSeq: number;
}

/** One flow of an import, saved against the revision it replaces (0 = must not exist yet). */
export interface FlowSave {
  flow: FlowDocument;
  expectedVersion: number;
  /** Project of a flow created by this save ('default' when omitted); an existing flow keeps its project. */
  projectId?: string;
}

/** Limits on every message the runtime stores (run inputs, node inputs and outputs). */
export interface MessageLimits {
  /** Largest serialised message, in bytes of UTF-8 JSON. */
  maxBytes: number;
  /** Deepest nesting of objects/arrays. */
  maxDepth: number;
}

export interface CredentialRecord {
  id: string;
  name: string;
  type: string;
  /** The project it belongs to; 'default' when omitted at creation (an update never moves it). */
  projectId?: string;
  /** Encrypted blob (the storage never sees clear text). */
  data: string;
  createdAt: number;
  updatedAt: number;
}

export interface Storage {
  readonly dialect: 'sqlite' | 'postgres';
  /** Users, sessions, API tokens, projects and members, the audit log. */
  readonly identity: IdentityStore;
  /** Flow version history and deployments, Git links (versions.ts, migration 9). */
  readonly versions: import('./versions.ts').FlowVersionStore;
  /** Create or upgrade the schema. Idempotent. */
  migrate(): Promise<void>;
  /** Flush pending writes and close. */
  close(): Promise<void>;
  /** One round trip to the database (readiness probe); rejects when it cannot be reached. */
  ping(): Promise<void>;

  // Flows
  listFlows(): Promise<StoredFlow[]>;
  getFlow(id: string): Promise<StoredFlow | null>;
  /**
   * Insert or replace a flow document. With `expectedVersion`, fails with a VersionConflictError when the stored
   * revision differs (optimistic locking). Returns the stored flow. A new flow goes to `options.projectId`
   * ('default' when omitted); saving an existing flow never moves it to another project.
   */
  saveFlow(flow: FlowDocument, expectedVersion?: number, options?: { projectId?: string }): Promise<StoredFlow>;
  /**
   * Mark the current revision deployed (snapshotting its document), or undeploy with null. Fails with a
   * VersionConflictError when `version` is no longer the current revision.
   */
  setDeployed(id: string, version: number | null): Promise<void>;
  deleteFlow(id: string): Promise<boolean>;
  /**
   * Save several flows in ONE transaction (an import): all of them or none. Each is checked against its
   * `expectedVersion` like `saveFlow`; one conflict rejects with a VersionConflictError and nothing is written.
   * With `deploy`, each saved revision is also marked deployed in the same transaction.
   */
  saveFlows(saves: readonly FlowSave[], options?: { deploy?: boolean }): Promise<StoredFlow[]>;

  // Runs (durable path)
  /**
   * `acceptRun` and `completeInvocation` serialise their messages before queueing anything; a message over the
   * limits or not JSON THROWS an UnstorableMessageError synchronously (nothing queued), so the caller can fail the
   * invocation before passing the message on. Every other failure rejects the returned promise.
   */
  acceptRun(run: RunRecord, first: InvocationRecord[], options?: AcceptOptions): Promise<void>;
  /** Queue mode: accepted runs not yet handed to the queue, oldest first, and their removal once handed. */
  readonly outbox?: import('./leases.ts').RunOutbox;
  completeInvocation(change: CompleteInvocation): Promise<void>;
  /**
   * completeInvocation for a caller that does not wait for it (a hop that does not end its run): no promise, `settled`
   * is called once the write committed (no argument) or failed (the error); it must not throw. Throws like
   * completeInvocation. Optional: callers fall back to completeInvocation.
   */
  queueCompletion?(change: CompleteInvocation, settled: (error?: unknown) => void): void;
  /**
   * Whether the single writer holds more queued writes than its next transaction takes (SQLite): new runs then wait
   * for a later turn. Optional: without it, runs start whenever the executor's slice allows.
   */
  writerBehind?(): boolean;
  updateRun(update: RunUpdate): Promise<void>;
  /** Mark every still-pending invocation of a run cancelled and the run cancelled, in one transaction. */
  cancelRun(runId: string, finishedAt: number): Promise<void>;
  /** Runs in queued/running/waiting state (only `runIds` when given) with their pending invocations: what to resume. */
  listResumableRuns(filter?: { runIds?: readonly string[] }): Promise<ResumableRun[]>;
  /** Run ownership across processes sharing this database (storage/leases.ts); absent where one process owns the database (SQLite). */
  readonly leases?: import('./leases.ts').RunLeases;
  /** Count one more interruption of each of these (pending) invocations, before they are dispatched again. */
  recordInterruptions(invocationIds: readonly string[]): Promise<void>;
  /**
   * A clean shutdown is not a crash: take back, in advance, the interruption the next resume will count for the
   * pending invocations of these runs.
   */
  recordCleanStop(runIds: readonly string[]): Promise<void>;

  // Runs (history)
  getRun(id: string): Promise<RunRecord | null>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  listInvocations(runId: string): Promise<InvocationRecord[]>;
  /** Status and timing of runs created since `since` (epoch ms), newest first, at most `limit`: for dashboards. */
  listRunTimings(since: number, limit: number): Promise<RunTiming[]>;
  /** Delete a finished run and its invocations (retention). */
  deleteRun(id: string): Promise<void>;
  /** Delete finished runs older than `olderThan` (epoch ms). Returns how many. */
  pruneRuns(olderThan: number): Promise<number>;

  // Context (flow/global/node key-value)
  loadContext(scope: string): Promise<Record<string, unknown>>;
  setContext(scope: string, key: string, value: unknown): Promise<void>;

  // Credentials (encrypted blobs)
  listCredentials(): Promise<CredentialRecord[]>;
  getCredential(id: string): Promise<CredentialRecord | null>;
  saveCredential(record: CredentialRecord): Promise<void>;
  /** Insert a new credential; false (nothing written) when one with that id exists. Atomic. */
  insertCredential(record: CredentialRecord): Promise<boolean>;
  deleteCredential(id: string): Promise<boolean>;
  /**
   * Key rotation: swap a credential's encrypted data for `data` only if it still is `expected` (compare-and-swap, so
   * an edit made meanwhile is never lost). updatedAt is left alone: the fields did not change. False when not swapped.
   */
  replaceCredentialData(id: string, expected: string, data: string): Promise<boolean>;
}

export class VersionConflictError extends Error {
  constructor(
    readonly flowId: string,
    readonly expected: number,
    readonly actual: number,
  ) {
    super(`Flow "${flowId}" is at version ${actual}, not ${expected}: it was changed by someone else. Reload and retry.`);
    this.name = 'VersionConflictError';
  }
}

/**
 * `completeInvocation` found no pending invocation with that id: it was already completed or cancelled (typically
 * the run was cancelled while the node ran). Nothing of that change was written.
 */
export class InvocationNotPendingError extends Error {
  constructor(readonly invocationId: string) {
    super(`Invocation "${invocationId}" is not pending (already completed, cancelled, or unknown): change not written.`);
    this.name = 'InvocationNotPendingError';
  }
}

/** A message cannot be stored: larger or deeper than the limits, or not JSON. Nothing of the write was queued. */
export class UnstorableMessageError extends Error {
  constructor(
    /** What was being stored, e.g. "the outputs of invocation …". */
    readonly what: string,
    readonly reason: 'size' | 'depth' | 'type',
    /** Why, without the `what`: "is 20.0 MB, over the 16.0 MB limit (FLOWCREW_MAX_MESSAGE_BYTES)". */
    readonly detail: string,
  ) {
    super(`Cannot store ${what}: ${detail}`);
    this.name = 'UnstorableMessageError';
  }
}
