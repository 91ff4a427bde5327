/**
 * Human in the loop, runtime side: questions runs wait on are answered here (checked against the question's JSON
 * Schema, once), and their runs resumed. A sweep applies timeouts (the question's chosen answer) and escalations,
 * and resumes runs whose answer came while they were still parking or while no process could resume them.
 * Who may answer is the service's business (service.ts); this module trusts its caller.
 */
import type { Logger } from '@flowcrew/sdk';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { ProblemError, notFound } from '../errors.ts';
import type { EventFanout } from '../executor/events.ts';
import type { Executor } from '../executor/executor.ts';
import { ajvIssues } from '../flow/validate.ts';
import { createPropsValidator } from '../registry/credential-type-checks.ts';
import { SqlStorage } from '../storage/sql-storage.ts';
import type { Storage } from '../storage/types.ts';
import type { KeyRing } from '../vault/keyring.ts';
import { WaitLinks } from './links.ts';
import { Parking } from './park.ts';
import { WaitStore, type WaitRecord } from './store.ts';

/** The answer form when a question brings no schema: approve or reject, with an optional comment. */
export const APPROVAL_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['approved'],
  properties: { approved: { type: 'boolean', title: 'Approve' }, comment: { type: 'string', title: 'Comment' } },
};
/** Links to questions with no timeout stay valid this long. */
const DEFAULT_LINK_TTL_MS = 7 * 24 * 3600_000;
const DEFAULT_SWEEP_MS = 5_000;

export interface WaitingOptions {
  storage: Storage;
  keys: Pick<KeyRing, 'current' | 'find'>;
  log: Logger;
  /** Base of the answer links (FLOWCREW_PUBLIC_URL). */
  publicUrl: string;
  /** How often timeouts, escalations and missed resumes are looked for (FLOWCREW_WAIT_SWEEP_MS); default 5 s. */
  sweepMs?: number;
}

export interface Answerer {
  /** User name (audit, `by` of the answer). */
  name: string;
  via: 'editor' | 'api' | 'link';
}

/** Something that happened to a question, for the audit log (the service records it with its actor). */
export type WaitNotice = { kind: 'escalated' | 'timed_out'; wait: WaitRecord };

/** The questions of a project changed (asked, answered, timed out, escalated, cancelled): editors reload their list (live.ts). */
export interface WaitChange {
  projectId: string;
  runId: string;
  /** Absent when every question of the run changed (the run was cancelled). */
  waitId?: string;
  change: 'asked' | 'answered' | 'timed_out' | 'escalated' | 'cancelled';
}

export class WaitingRuns {
  readonly store: WaitStore;
  readonly links: WaitLinks;
  readonly hooks: Parking;
  private executor: Executor | null = null;
  private timer?: NodeJS.Timeout;
  private sweeping: Promise<void> | null = null;
  private readonly validators = new Map<string, ValidateFunction>();
  private readonly ajv = createPropsValidator();
  /** Told of timeouts and escalations (the service audits them). */
  onNotice: (notice: WaitNotice) => void = () => {};
  private readonly listeners = new Set<(change: WaitChange) => void>();
  /** Queue mode, on a main: an answered run goes back to the workers (queue/mode.ts requeueParked) instead of resuming here. */
  requeue: ((runId: string) => Promise<boolean>) | null = null;

  constructor(private readonly options: WaitingOptions) {
    if (!(options.storage instanceof SqlStorage)) throw new Error('human-in-the-loop waiting needs the SQL storage (SQLite or PostgreSQL)');
    this.store = new WaitStore(options.storage.driver);
    this.links = new WaitLinks(options.keys, options.publicUrl);
    this.hooks = new Parking({
      storage: options.storage,
      store: this.store,
      log: options.log,
      asked: (wait) => {
        this.changed({ projectId: wait.projectId, runId: wait.runId, waitId: wait.id, change: 'asked' });
        return this.notify(wait, false);
      },
      released: (runId) => void this.resumeIfAnswered(runId),
    });
  }

  attach(executor: Executor, events: EventFanout): void {
    this.executor = executor;
    this.hooks.attach(executor, events);
  }

  /** Listen to changes of the questions (live.ts sends them to editors); returns the way to stop. */
  onChange(listener: (change: WaitChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  private changed(change: WaitChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.options.log.warn(`waiting: a change listener failed: ${(error as Error).message}`);
      }
    }
  }

  /** Start the sweep (after runs were resumed at start). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.options.sweepMs ?? DEFAULT_SWEEP_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
  }

  async get(id: string): Promise<WaitRecord> {
    const wait = await this.store.get(id);
    if (!wait) throw notFound(`question "${id}"`);
    return wait;
  }

  /** The schema an answer must match (the question's, or approve/reject). */
  schemaOf(wait: WaitRecord): Record<string, unknown> {
    return (wait.request.schema as Record<string, unknown> | undefined) ?? APPROVAL_SCHEMA;
  }

  /** Answer once; the run resumes. 409 when no longer open, 422 (with pointers) when the answer does not fit. */
  async answer(id: string, answer: unknown, by: Answerer): Promise<WaitRecord> {
    const wait = await this.get(id);
    if (wait.status !== 'open') throw closed(wait);
    const validate = this.validator(wait);
    const value = structuredClone(answer);
    if (!validate(value)) {
      throw new ProblemError(422, 'Invalid answer', `the answer to question "${id}" does not match its form`, ajvIssues(validate.errors).map((i) => ({ ...i, severity: 'error' as const })));
    }
    if (!(await this.store.close(id, { status: 'answered', answer: value, by: by.name, via: by.via, at: Date.now() }))) throw closed((await this.store.get(id)) ?? wait);
    this.changed({ projectId: wait.projectId, runId: wait.runId, waitId: id, change: 'answered' });
    await this.resume(wait.runId);
    return (await this.store.get(id))!;
  }

  /** A signed link for the question, valid until its timeout (or a week). */
  async linkFor(wait: WaitRecord): Promise<{ token: string; url: string; expiresAt: number }> {
    const expiresAt = wait.expiresAt ?? Date.now() + DEFAULT_LINK_TTL_MS;
    const token = await this.links.sign(wait.id, Math.max(1_000, expiresAt - Date.now()));
    return { token, url: this.links.url(token), expiresAt };
  }

  /**
   * Resume a parked run: claim it (waiting → running, one winner across processes), then let the executor take it
   * back as after a stop. False when it is not parked (still parking, running, or finished): the sweep retries.
   */
  async resume(runId: string): Promise<boolean> {
    if (this.requeue) return this.requeue(runId);
    const executor = this.executor;
    if (!executor) return false;
    const storage = this.options.storage;
    if (!(await this.store.claimRun(runId, storage.leases?.forNewRun() ?? [null, null]))) return false;
    // Resuming counts an interruption of the pending invocation; this was no crash, so take it back first.
    await storage.recordCleanStop([runId]);
    await executor.resume([runId]);
    return true;
  }

  /** A run no process holds (parked) is cancelled here: its pending invocations and questions too. */
  async cancelParked(runId: string): Promise<boolean> {
    const run = await this.options.storage.getRun(runId);
    if (!run || run.status !== 'waiting' || this.executor?.active.has(runId)) return false;
    const now = Date.now();
    await this.options.storage.cancelRun(runId, now);
    await this.store.cancelRun(runId, now);
    this.changed({ projectId: run.projectId ?? 'default', runId, change: 'cancelled' });
    this.executor?.options.events.runFinished({ ...run, status: 'cancelled', finishedAt: now });
    return true;
  }

  /** One pass: timeouts, escalations, answered runs still parked. Never two at once. */
  sweep(now = Date.now()): Promise<void> {
    this.sweeping ??= this.sweepOnce(now)
      .catch((error: unknown) => this.options.log.warn(`waiting: sweep failed (${(error as Error).message}); retrying at the next one`))
      .finally(() => (this.sweeping = null));
    return this.sweeping;
  }

  private async sweepOnce(now: number): Promise<void> {
    const { expired, escalate } = await this.store.due(now);
    for (const wait of escalate) {
      const extra = wait.request.escalation!;
      const assignees = { users: unique([...wait.assignees.users, ...(extra.users ?? [])]), roles: unique([...wait.assignees.roles, ...(extra.roles ?? [])]) };
      if (!(await this.store.escalate(wait.id, assignees, now))) continue;
      const escalated = { ...wait, assignees, escalatedAt: now };
      this.onNotice({ kind: 'escalated', wait: escalated });
      this.changed({ projectId: wait.projectId, runId: wait.runId, waitId: wait.id, change: 'escalated' });
      await this.notify(escalated, true).catch((error: unknown) => this.options.log.warn(`question "${wait.id}": escalation not notified: ${(error as Error).message}`));
    }
    for (const wait of expired) {
      const answer = wait.request.timeoutAnswer ?? null;
      if (!(await this.store.close(wait.id, { status: 'timed_out', answer, by: null, via: 'timeout', at: now }))) continue;
      this.onNotice({ kind: 'timed_out', wait });
      this.changed({ projectId: wait.projectId, runId: wait.runId, waitId: wait.id, change: 'timed_out' });
      await this.resume(wait.runId);
    }
    for (const runId of await this.store.answeredWaitingRuns()) await this.resume(runId);
  }

  private async resumeIfAnswered(runId: string): Promise<void> {
    try {
      if ((await this.store.answeredWaitingRuns()).includes(runId)) await this.resume(runId);
    } catch (error) {
      this.options.log.warn(`run ${runId}: could not resume after its answer (${(error as Error).message}); the sweep retries`);
    }
  }

  /** Start the question's notify flow (its manual entry) with the question and a signed link. */
  private async notify(wait: WaitRecord, escalated: boolean): Promise<void> {
    const flowId = wait.request.notifyFlow;
    if (!flowId || !this.executor) return;
    const link = await this.linkFor(wait);
    const payload = {
      waitId: wait.id,
      runId: wait.runId,
      flowId: wait.flowId,
      nodeId: wait.nodeId,
      title: wait.request.title,
      message: wait.request.message ?? '',
      link: link.url,
      linkExpiresAt: link.expiresAt,
      assignees: wait.assignees,
      escalated,
      ...(escalated ? { escalatedTo: wait.request.escalation } : {}),
    };
    await this.executor.runNow(flowId, { payload, topic: escalated ? 'waiting.escalated' : 'waiting.asked' });
  }

  private validator(wait: WaitRecord): ValidateFunction {
    const schema = this.schemaOf(wait);
    const key = JSON.stringify(schema);
    let validate = this.validators.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      if (this.validators.size > 200) this.validators.clear();
      this.validators.set(key, validate);
    }
    return validate;
  }
}

function closed(wait: WaitRecord): ProblemError {
  const how = wait.status === 'answered' ? `was already answered${wait.answeredBy ? ` by ${wait.answeredBy}` : ''}` : wait.status === 'timed_out' ? 'timed out' : 'was cancelled';
  return new ProblemError(409, 'Question closed', `question "${wait.id}" ${how}; it can be answered only once`);
}

const unique = (values: string[]) => [...new Set(values)];

/** The runtime's waiting service (runtime.ts wires it): FLOWCREW_PUBLIC_URL for links, FLOWCREW_WAIT_SWEEP_MS. */
export function createWaiting(storage: Storage, keys: WaitingOptions['keys'], log: Logger, port: number, env: NodeJS.ProcessEnv = process.env): WaitingRuns | undefined {
  if (!(storage instanceof SqlStorage)) return undefined;
  const sweepMs = Number(env.FLOWCREW_WAIT_SWEEP_MS);
  return new WaitingRuns({ storage, keys, log, publicUrl: env.FLOWCREW_PUBLIC_URL || `http://localhost:${port}`, sweepMs: sweepMs > 0 ? sweepMs : undefined });
}
