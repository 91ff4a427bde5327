/**
 * The audit log: who did what, when, from where, to what, and whether it worked. Append-only: this class (and the
 * storage under it) has no update or delete, and the tables refuse UPDATE/DELETE with a trigger. Queried with filters
 * and keyset paging; exported as JSON lines or CSV (formula-escaped for spreadsheets).
 */
import { stringify } from 'csv-stringify/sync';
import { v7 as uuidv7 } from 'uuid';
import { ProblemError } from '../errors.ts';
import type { AuditFilter, AuditRecord, IdentityStore } from '../storage/identity-types.ts';
import type { Actor } from './actor.ts';
import type { AuditEntry, AuditEvent, AuditExportFormat, AuditOutcome, AuditPage, AuditQuery } from './types.ts';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const EXPORT_PAGE = 1000;
/** Detail is context, not payload: cap what one entry can store. */
const MAX_DETAIL_CHARS = 4096;
const MAX_FIELD_CHARS = 256;
const OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];

/** Who is recorded for an event that has no authenticated actor (a failed sign-in, a refused token). */
export interface AnonymousActor {
  kind: 'anonymous';
  /** What the caller claimed to be (the username tried, a token prefix), for the investigator. */
  name: string;
}

const CSV_COLUMNS = ['id', 'at', 'actor_kind', 'actor_id', 'actor_name', 'via', 'action', 'outcome', 'target_type', 'target_id', 'project_id', 'ip', 'detail'];

export class AuditLog {
  constructor(private readonly store: IdentityStore) {}

  /** Appends one entry; resolves when it is committed. */
  async record(actor: Actor | AnonymousActor, event: AuditEvent): Promise<AuditEntry> {
    const record = toRecord(actor, event, Date.now());
    await this.store.appendAudit([record]);
    return toEntry(record);
  }

  /** Newest first. 422 (with the parameter named) for a bad filter. */
  async query(query: AuditQuery = {}): Promise<AuditPage> {
    const filter = toFilter(query);
    const records = await this.store.queryAudit(filter);
    const entries = records.map(toEntry);
    return { entries, next: entries.length === filter.limit ? entries.at(-1)!.id : null };
  }

  /** Every entry matching the query (its limit/before are ignored), newest first, as text chunks to stream. */
  async *export(query: AuditQuery, format: AuditExportFormat): AsyncGenerator<string> {
    if (format !== 'jsonl' && format !== 'csv') throw badQuery('format', 'must be jsonl or csv');
    let before: string | undefined;
    if (format === 'csv') yield stringify([CSV_COLUMNS]);
    for (;;) {
      const page = await this.query({ ...query, limit: EXPORT_PAGE, before });
      if (page.entries.length === 0) return;
      yield format === 'jsonl' ? page.entries.map((e) => `${JSON.stringify(e)}\n`).join('') : stringify(page.entries.map(csvRow), { escape_formulas: true });
      if (!page.next) return;
      before = page.next;
    }
  }
}

function toRecord(actor: Actor | AnonymousActor, event: AuditEvent, at: number): AuditRecord {
  const anonymous = actor.kind === 'anonymous';
  let detail: string | null = null;
  if (event.detail && Object.keys(event.detail).length > 0) {
    detail = JSON.stringify(event.detail);
    if (detail.length > MAX_DETAIL_CHARS) detail = JSON.stringify({ truncated: detail.slice(0, MAX_DETAIL_CHARS) });
  }
  return {
    id: uuidv7(),
    at,
    actorKind: actor.kind,
    actorId: anonymous ? '' : clip((actor as Actor).id),
    actorName: clip(actor.name),
    via: anonymous ? 'none' : clip((actor as Actor).via),
    action: clip(event.action),
    outcome: event.outcome,
    targetType: event.target ? clip(event.target.type) : null,
    targetId: event.target ? clip(event.target.id) : null,
    projectId: event.projectId ?? null,
    ip: event.ip ?? (anonymous ? null : ((actor as Actor).from ?? null)),
    detail,
  };
}

function clip(value: string): string {
  return value.length > MAX_FIELD_CHARS ? `${value.slice(0, MAX_FIELD_CHARS)}…` : value;
}

function toEntry(r: AuditRecord): AuditEntry {
  return {
    id: r.id,
    at: r.at,
    actor: { kind: r.actorKind, id: r.actorId, name: r.actorName, via: r.via },
    action: r.action,
    outcome: r.outcome as AuditOutcome,
    targetType: r.targetType,
    targetId: r.targetId,
    projectId: r.projectId,
    ip: r.ip,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  };
}

function csvRow(e: AuditEntry): unknown[] {
  return [e.id, new Date(e.at).toISOString(), e.actor.kind, e.actor.id, e.actor.name, e.actor.via, e.action, e.outcome, e.targetType, e.targetId, e.projectId, e.ip, e.detail === null ? '' : JSON.stringify(e.detail)];
}

function badQuery(parameter: string, message: string): ProblemError {
  return new ProblemError(422, 'Invalid audit query', `${parameter} ${message}.`, [{ pointer: `/${parameter}`, message }]);
}

function toFilter(q: AuditQuery): AuditFilter {
  const limit = q.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw badQuery('limit', `must be an integer from 1 to ${MAX_LIMIT}`);
  for (const key of ['since', 'until'] as const) {
    const v = q[key];
    if (v !== undefined && (!Number.isFinite(v) || v < 0)) throw badQuery(key, 'must be a time in epoch milliseconds');
  }
  if (q.outcome !== undefined && !OUTCOMES.includes(q.outcome)) throw badQuery('outcome', `must be one of ${OUTCOMES.join(', ')}`);
  const filter: AuditFilter = { limit };
  if (q.action !== undefined) {
    if (q.action.endsWith('.')) filter.actionPrefix = q.action;
    else filter.action = q.action;
  }
  for (const key of ['actorId', 'outcome', 'targetType', 'targetId', 'projectId', 'since', 'until', 'before'] as const) {
    if (q[key] !== undefined) (filter as unknown as Record<string, unknown>)[key] = q[key];
  }
  return filter;
}
