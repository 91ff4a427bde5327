/**
 * "Test connection": run a credential type's `test` on a stored credential, on fields not stored yet (the form
 * before saving), or on a stored credential with some fields changed (the form while editing: the secrets the editor
 * never has are taken from the vault). Nothing is stored. The answer never contains a secret value.
 */
import type { CredentialTestResult, RuntimeServices } from '@flowcrew/sdk';
import { notFound, ProblemError } from './errors.ts';
import type { FlowIssue } from './flow/types.ts';

const invalid = (detail: string, issues: FlowIssue[]) => new ProblemError(422, 'Invalid credential', detail, issues);
import { Redactor } from './executor/redaction.ts';
import type { NodeRegistry } from './registry/registry.ts';

export interface CredentialTestInput {
  /** A stored credential: its type and fields are the starting point. */
  id?: string;
  /** The credential type, for fields not stored yet (required without `id`). */
  type?: string;
  /** Fields to test; with `id`, they replace the stored ones of the same name (null removes one). */
  fields?: Record<string, unknown>;
}

export interface CredentialTestAnswer extends CredentialTestResult {
  type: string;
  durationMs: number;
}

export interface CredentialTestDeps {
  registry: NodeRegistry;
  services: RuntimeServices;
  /** A stored credential's type and decrypted fields. */
  stored(id: string): Promise<{ type: string; fields: Record<string, unknown> } | undefined>;
  timeoutMs?: number;
}

export async function testCredential(deps: CredentialTestDeps, input: CredentialTestInput): Promise<CredentialTestAnswer> {
  let type = input.type;
  let fields: Record<string, unknown> = {};
  if (input.id !== undefined) {
    const stored = await deps.stored(input.id);
    if (!stored) throw notFound(`credential "${input.id}"`);
    if (type !== undefined && type !== stored.type) throw invalid(`credential "${input.id}" is of type "${stored.type}"`, [{ pointer: '/type', message: `must be "${stored.type}" (or left out)` }]);
    type = stored.type;
    fields = stored.fields;
  }
  if (type === undefined) throw invalid('say which credential type to test', [{ pointer: '/type', message: 'is required without an id' }]);
  for (const [name, value] of Object.entries(input.fields ?? {})) {
    if (value === null) delete fields[name];
    else fields[name] = value;
  }
  const definition = deps.registry.credentialType(type);
  if (!definition) throw new ProblemError(422, 'Unknown credential type', `no installed node pack declares the credential type "${type}"`, [{ pointer: '/type', message: 'is not a declared credential type' }]);
  if (!definition.test) throw new ProblemError(422, 'Not testable', `credential type "${type}" has no connection test`);
  const issues = deps.registry.checkCredentialFields(type, fields);
  if (issues.length > 0) throw invalid(`the fields do not fit credential type "${type}"`, issues);

  const timeoutMs = deps.timeoutMs ?? 20_000;
  const controller = new AbortController();
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  let result: CredentialTestResult;
  try {
    result = await Promise.race([
      definition.test(structuredClone(fields), deps.services, controller.signal),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new Error(`no answer within ${timeoutMs / 1000} s`);
          reject(error); // first: the test's own reaction to the abort must not be the answer
          controller.abort(error);
        }, timeoutMs);
      }),
    ]);
    if (!result || typeof result.ok !== 'boolean') result = { ok: false, message: `credential type "${type}" answered its test with something that is not a result` };
  } catch (error) {
    result = { ok: false, message: (error as Error).message || String(error) };
  } finally {
    clearTimeout(timer);
  }
  // A driver may echo what it was given (a connection string in an error): the secrets never leave.
  const redactor = new Redactor();
  redactor.addCredential(fields, deps.registry.describeCredentialTypes().find((t) => t.name === type)?.schema as Record<string, unknown>);
  return { ok: result.ok, message: redactor.text(String(result.message ?? '')), type, durationMs: Date.now() - started };
}
