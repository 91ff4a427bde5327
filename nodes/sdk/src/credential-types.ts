/**
 * Credential types: what a pack declares about the secrets its nodes need (the form's fields, which of them are
 * secret, how to test a connection), and what a node receives for its credential at run time.
 *
 * A pack module exports `credentialTypes` beside `nodes`; the runtime collects them, serves them (without code) to
 * the editor, which builds the credential form from `schema`, and runs `test` for "Test connection".
 */
import type { JsonSchema, RuntimeServices } from './index.ts';

/** The outcome of a connection test, shown to the user as is (never put a secret in `message`). */
export interface CredentialTestResult {
  ok: boolean;
  /** What happened, e.g. "connected to PostgreSQL 15.4 as app" or "password authentication failed for user app". */
  message: string;
}

export interface CredentialTypeDefinition<F extends Record<string, unknown> = Record<string, unknown>> {
  /** Unique name, e.g. 'postgres'; node definitions name it in `credentials.type`. */
  name: string;
  label: string;
  /** Markdown shown above the form. */
  description?: string;
  /** JSON Schema (draft 2020-12) of the fields: an object schema with `properties`. */
  schema: JsonSchema;
  /**
   * Fields whose values are secret: never shown again in the editor, redacted wherever they would reappear (run
   * records, debug, live events, logs). Fields marked `writeOnly: true` in `schema` are secret too.
   */
  secret?: string[];
  /**
   * Check that the fields work (connect, authenticate, run a no-op), through `services` (the outbound guard for
   * the network). Resolve with `{ ok: false, message }` for a failed check (or throw: the error's message is
   * shown); `signal` aborts when the runtime gives up waiting.
   */
  test?(fields: F, services: RuntimeServices, signal: AbortSignal): Promise<CredentialTestResult>;
}

/** Identity helper that keeps the fields type checked against `test`. */
export function defineCredentialType<F extends Record<string, unknown>>(definition: CredentialTypeDefinition<F>): CredentialTypeDefinition<F> {
  return definition;
}

/** Names of the secret fields of a credential type: its `secret` list and the `writeOnly` properties of its schema. */
export function secretFieldsOf(definition: Pick<CredentialTypeDefinition, 'schema' | 'secret'>): string[] {
  const properties = (definition.schema.properties ?? {}) as Record<string, { writeOnly?: boolean } | undefined>;
  const fromSchema = Object.entries(properties)
    .filter(([, property]) => property?.writeOnly === true)
    .map(([name]) => name);
  return [...new Set([...(definition.secret ?? []), ...fromSchema])];
}

/**
 * What a node receives for its credential. The object is live: after the credential is changed (through the API
 * or the editor), `fields` holds the new values and `revision` is higher, without a redeploy. Read them when you
 * connect, not once at create; key pooled resources by `{ id, revision }` (see ResourceServices), so a change
 * closes the connections opened with the old values.
 */
export interface NodeCredential<F extends Record<string, unknown> = Record<string, unknown>> {
  readonly id: string;
  /** The credential type's name. */
  readonly type: string;
  /**
   * 1 when this process first resolved the credential, bumped every time its fields change. Per process: compare
   * revisions within one runtime, do not store them.
   */
  readonly revision: number;
  /** The decrypted fields, as of `revision`. */
  readonly fields: F;
  /** Called after the fields changed (revision bumped). Returns a function that unsubscribes. */
  onChange(listener: (credential: NodeCredential<F>) => void): () => void;
  /**
   * Store new values for some fields the server changed: a rotated OAuth2 refresh token, a renewed session. The
   * patch is merged over the stored fields (an edit made meanwhile is kept), checked against the credential type's
   * schema, written to the vault encrypted and audited (as the system actor, naming the fields and `reason`, never a
   * value). Every node using the credential in this runtime sees the new `fields` at once, with the SAME `revision`:
   * what was opened with the old values stays in use (it was valid), nothing is re-opened. Rejects when the
   * credential was deleted or the patch does not fit the schema. Absent where the host cannot store credentials
   * (a credential type's connection test).
   */
  writeBack?(patch: Partial<F>, reason: string): Promise<void>;
}
