/**
 * Redaction of vault secrets wherever they could reappear: what is stored of a run (invocation inputs, outputs,
 * errors, the run's error), live events (node:started/finished previews, debug, progress, status) and node logs.
 *
 * One Redactor per deployed flow, filled with the secret values of the credentials its nodes (and its agents' tool
 * calls) use. A flow without credentials has an empty one, and every method returns its argument untouched: the
 * cost is paid only by flows that use credentials. Redacting copies on write: the live message a node passes on is
 * never changed, only what is serialised of it.
 *
 * What counts as a secret: credential fields the node type's schema marks `writeOnly` (or `format: password`), or,
 * where the schema says nothing about a field, values under secret-looking names (password, token, apiKey, ...).
 * Besides the value itself, the forms it is commonly sent in are redacted too: URL-encoded, base64 / base64url, and
 * base64 of `user:password` (HTTP basic auth), so an echo of the request headers gives nothing away either.
 */
import type { JsonSchema, Logger, PortMessage } from '@flowcrew/sdk';
import type { DebugEvent, ExecutionEvents, NodeFinishedEvent, NodeStartedEvent, ProgressEvent, StatusEvent } from './events.ts';
import type { CompleteInvocation, InvocationRecord, RunRecord } from '../storage/types.ts';

export const REDACTED = '[redacted]';

/** Shorter values are not redacted: they would match ordinary text everywhere. */
export const MIN_SECRET_LENGTH = 6;

const SECRET_NAME = /pass|secret|token|api[-_]?key|private|credential|auth|signature|cookie|session|bearer/i;
const USER_FIELDS = ['user', 'username', 'login', 'clientId', 'client_id'];
/** Deeper than this, a value is redacted through its JSON text instead of walked (no stack trouble on hostile nesting). */
const MAX_WALK_DEPTH = 200;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | null = null;

  /** Whether anything is redacted at all; false for flows without credentials. */
  get active(): boolean {
    return this.pattern !== null;
  }

  /**
   * Add the secret values of one credential's decrypted fields. `schema`: the credential's field schema (the node
   * type's `credentials.schema` or its credential type's); `secretNames`: fields a credential type declares secret
   * (its `secret` list). Call again after the credential's fields change: old and new values are both redacted.
   */
  addCredential(fields: Record<string, unknown> | undefined, schema?: JsonSchema, secretNames: readonly string[] = []): void {
    if (!fields) return;
    const declared = schemaProperties(schema);
    const found: string[] = [];
    for (const [name, value] of Object.entries(fields)) {
      const spec = declared.get(name);
      const secret = secretNames.includes(name) || (spec ? spec.writeOnly === true || spec.format === 'password' : SECRET_NAME.test(name));
      collect(value, secret, found);
    }
    // HTTP basic auth sends base64(user:password): redact that form too.
    const user = USER_FIELDS.map((f) => fields[f]).find((v): v is string => typeof v === 'string');
    if (user !== undefined) for (const secret of [...found]) found.push(`${user}:${secret}`);
    this.addValues(found);
  }

  /** Add secret values as they are (e.g. the vault-sourced env values of an MCP server). */
  addValues(values: Iterable<string>): void {
    const before = this.secrets.size;
    for (const value of values) {
      if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH) continue;
      for (const form of encodings(value)) this.secrets.add(form);
    }
    if (this.secrets.size !== before) this.compile();
  }

  /** Take over another redactor's secrets (a redeployed flow keeps redacting what its previous version used). */
  absorb(other: Redactor | undefined): void {
    if (!other || other.secrets.size === 0) return;
    for (const secret of other.secrets) this.secrets.add(secret);
    this.compile();
  }

  private compile(): void {
    // Longest first, so a value that contains another is replaced whole.
    const needles = [...this.secrets].sort((a, b) => b.length - a.length).map(escapeRegExp);
    this.pattern = needles.length > 0 ? new RegExp(needles.join('|'), 'g') : null;
  }

  text(value: string): string;
  text(value: string | null): string | null;
  text(value: string | null): string | null {
    if (value === null || !this.pattern) return value;
    this.pattern.lastIndex = 0;
    return this.pattern.test(value) ? value.replace(this.pattern, REDACTED) : value;
  }

  /** `value` with every secret replaced; the same reference when nothing had to change. */
  value<T>(value: T): T {
    if (!this.pattern) return value;
    return this.walk(value, 0) as T;
  }

  private walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.text(value);
    if (value === null || typeof value !== 'object') return value;
    if (depth > MAX_WALK_DEPTH) return this.viaJson(value);
    if (Array.isArray(value)) {
      let copy: unknown[] | null = null;
      for (let i = 0; i < value.length; i++) {
        const item = this.walk(value[i], depth + 1);
        if (item !== value[i]) (copy ??= value.slice())[i] = item;
      }
      return copy ?? value;
    }
    if (ArrayBuffer.isView(value) || value instanceof Date) return value;
    let copy: Record<string, unknown> | null = null;
    for (const key of Object.keys(value)) {
      const original = (value as Record<string, unknown>)[key];
      const item = this.walk(original, depth + 1);
      const safeKey = this.text(key);
      if (item !== original || safeKey !== key) {
        copy ??= { ...(value as Record<string, unknown>) };
        if (safeKey !== key) delete copy[key];
        copy[safeKey] = item;
      }
    }
    return copy ?? value;
  }

  private viaJson(value: unknown): unknown {
    try {
      // JSON escapes nothing in a secret that encodings() did not already add an escaped form for.
      return JSON.parse(this.text(JSON.stringify(value)));
    } catch {
      return REDACTED;
    }
  }

  record(record: InvocationRecord): InvocationRecord {
    if (!this.pattern) return record;
    const input = this.value(record.input);
    const outputs = this.value(record.outputs);
    const error = this.text(record.error);
    return input === record.input && outputs === record.outputs && error === record.error ? record : { ...record, input, outputs, error };
  }

  records(records: InvocationRecord[]): InvocationRecord[] {
    return this.pattern ? records.map((r) => this.record(r)) : records;
  }

  run(run: RunRecord): RunRecord {
    if (!this.pattern) return run;
    const input = this.value(run.input);
    const error = this.text(run.error);
    return input === run.input && error === run.error ? run : { ...run, input, error };
  }

  /** What completeInvocation stores: outputs, error, the next invocations' inputs, tool-call records, the run's error. */
  completion(change: CompleteInvocation): CompleteInvocation {
    if (!this.pattern) return change;
    return {
      ...change,
      invocation: { ...change.invocation, outputs: this.value(change.invocation.outputs), error: this.text(change.invocation.error) },
      next: this.records(change.next),
      run: change.run && change.run.error ? { ...change.run, error: this.text(change.run.error) } : change.run,
    };
  }
}

/** Every string in a field value, recursing into objects (e.g. custom headers); `secret` says whether the field is one. */
function collect(value: unknown, secret: boolean, into: string[]): void {
  if (typeof value === 'string') {
    if (secret) into.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collect(item, secret, into);
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) collect(item, secret || SECRET_NAME.test(key), into);
  }
}

function schemaProperties(schema: JsonSchema | undefined): Map<string, { writeOnly?: unknown; format?: unknown }> {
  const found = new Map<string, { writeOnly?: unknown; format?: unknown }>();
  const visit = (node: unknown) => {
    if (!node || typeof node !== 'object') return;
    const s = node as Record<string, unknown>;
    for (const [name, spec] of Object.entries((s.properties as Record<string, unknown>) ?? {})) {
      if (!spec || typeof spec !== 'object') continue;
      const previous = found.get(name);
      const next = spec as { writeOnly?: unknown; format?: unknown };
      // A field secret in any branch (oneOf per provider) is secret.
      if (!previous || next.writeOnly === true || next.format === 'password') found.set(name, next);
    }
    for (const key of ['oneOf', 'anyOf', 'allOf'] as const) if (Array.isArray(s[key])) for (const branch of s[key] as unknown[]) visit(branch);
  };
  visit(schema);
  return found;
}

/** The forms a secret travels in: as is, JSON-escaped, URL-encoded, base64 and base64url. */
function encodings(value: string): string[] {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)]);
  const bytes = Buffer.from(value, 'utf8');
  forms.add(bytes.toString('base64'));
  forms.add(bytes.toString('base64').replace(/=+$/, ''));
  forms.add(bytes.toString('base64url'));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
}

/**
 * Executor events with the flow's secrets redacted, for every listener (Socket.IO, the debug buffer, metrics).
 * `redactorOf` gives a flow's redactor (undefined or inactive: the event passes as it is).
 */
export function redactingEvents(inner: ExecutionEvents, redactorOf: (flowId: string) => Redactor | undefined): ExecutionEvents {
  const active = (flowId: string) => {
    const redactor = redactorOf(flowId);
    return redactor?.active ? redactor : undefined;
  };
  return {
    listens: (kind) => inner.listens?.(kind) ?? true,
    runStarted: (run) => inner.runStarted(active(run.flowId)?.run(run) ?? run),
    runFinished: (run) => inner.runFinished(active(run.flowId)?.run(run) ?? run),
    nodeStarted: (event: NodeStartedEvent) => {
      const r = active(event.flowId);
      inner.nodeStarted(r ? { ...event, input: r.value(event.input) } : event);
    },
    nodeFinished: (event: NodeFinishedEvent) => {
      const r = active(event.flowId);
      inner.nodeFinished(r ? { ...event, outputs: r.value(event.outputs) as PortMessage[], error: r.text(event.error) } : event);
    },
    debug: (event: DebugEvent) => {
      const r = active(event.flowId);
      inner.debug(r ? { ...event, value: r.value(event.value) } : event);
    },
    progress: (event: ProgressEvent) => {
      const r = active(event.flowId);
      inner.progress(r ? { ...event, data: r.value(event.data) } : event);
    },
    status: (event: StatusEvent) => {
      const r = active(event.flowId);
      inner.status(r && event.status.text ? { ...event, status: { ...event.status, text: r.text(event.status.text) } } : event);
    },
  };
}

/** A node's logger with the flow's secrets redacted from messages and data (checked per line: tool credentials join later). */
export function redactedLogger(log: Logger, redactor: Redactor): Logger {
  const at =
    (level: keyof Logger) =>
    (message: string, data?: unknown): void => {
      if (!redactor.active) return log[level](message, data);
      log[level](redactor.text(message), data === undefined ? data : redactor.value(data));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
