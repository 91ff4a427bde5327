/**
 * Per-project environment variables as an actor may use them. Reading needs flow:read and never returns a secret's
 * value; setting or deleting a plain variable needs flow:write, a secret one credential:write as well (its value is a
 * vault credential of the project, type `environment-variable`). All changes are audited (names, never values).
 * Deployed flows read the values of their last deploy: a change applies when the flows are deployed again.
 *
 * For Git (git/service.ts): `environmentFile` is what a push commits as `environments/<environment>.json` (plain
 * values, and secret NAMES so the other environment knows what to set), `applyEnvironmentFile` what a pull stores.
 */
import { ProblemError } from '../errors.ts';
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize } from '../services/access.ts';
import type { AuditService } from '../services/audit.ts';
import type { ProjectService } from '../services/projects.ts';
import type { Variables } from './index.ts';
import { VARIABLE_NAME } from './resolver.ts';
import type { VariableRecord } from './store.ts';

export const SECRET_TYPE = 'environment-variable';
const MAX_VALUE = 64 * 1024;

export interface VariableView {
  name: string;
  secret: boolean;
  /** The value of a plain variable; null for a secret one (never returned). */
  value: string | null;
  description: string | null;
  updatedAt: number;
  updatedBy: string | null;
}

export interface VariableInput {
  value: string;
  secret?: boolean;
  description?: string | null;
}

/** The readable file a push commits per environment. */
export interface EnvironmentFile {
  variables: Record<string, string>;
  /** Names of the secret variables this environment sets (their values stay in its vault). */
  secrets: string[];
}

export class VariableService {
  constructor(
    private readonly runtime: Runtime,
    private readonly projects: ProjectService,
    private readonly audit: AuditService,
  ) {}

  private get variables(): Variables {
    // Set by the runtime with the executor's deploy hook: without it flows would not read what is stored here.
    const wired = (this.runtime as { variables?: Variables }).variables;
    if (!wired) throw new ProblemError(503, 'Variables unavailable', 'environment variables need the SQL storage');
    return wired;
  }

  async list(actor: Actor, projectId: string): Promise<VariableView[]> {
    await this.projects.requireWritable(actor, projectId, 'flow:read');
    return (await this.variables.store.list(projectId)).map(view);
  }

  async set(actor: Actor, projectId: string, name: string, input: VariableInput): Promise<VariableView> {
    await this.projects.requireWritable(actor, projectId, 'flow:write');
    checkName(name);
    if (typeof input?.value !== 'string') throw problem('/value', `variable ${name} needs a string value`);
    if (input.value.length > MAX_VALUE) throw problem('/value', `variable ${name} is longer than ${MAX_VALUE} characters`);
    const old = await this.variables.store.get(projectId, name);
    const secret = input.secret === true;
    if (secret || old?.secretCredentialId) authorize(actor, 'credential:write', projectId, 'flow:read', `project "${projectId}"`);
    let secretCredentialId: string | null = null;
    if (secret) {
      // A deterministic id: setting the secret again replaces its value in place (no orphaned credentials).
      secretCredentialId = secretId(projectId, name);
      await this.runtime.vault.save({ id: secretCredentialId, name: `variable ${name}`, type: SECRET_TYPE, fields: { value: input.value }, projectId }, { replace: true });
    }
    const record: VariableRecord = {
      projectId,
      name,
      value: secret ? null : input.value,
      secretCredentialId,
      description: input.description ?? old?.description ?? null,
      updatedAt: Date.now(),
      updatedBy: actor.name,
    };
    await this.variables.store.put([record]);
    // A secret turned plain leaves nothing behind in the vault.
    if (!secret && old?.secretCredentialId) await this.runtime.vault.delete(old.secretCredentialId);
    await this.audit.record(actor, 'variable.set', { type: 'variable', id: `${projectId}/${name}` }, projectId, { name, secret });
    return view(record);
  }

  async remove(actor: Actor, projectId: string, name: string): Promise<void> {
    await this.projects.requireWritable(actor, projectId, 'flow:write');
    const old = await this.variables.store.get(projectId, name);
    if (!old) throw new ProblemError(404, 'Not Found', `variable ${name} does not exist in project "${projectId}"`);
    if (old.secretCredentialId) authorize(actor, 'credential:write', projectId, 'flow:read', `project "${projectId}"`);
    await this.variables.store.remove(projectId, name);
    if (old.secretCredentialId) await this.runtime.vault.delete(old.secretCredentialId);
    await this.audit.record(actor, 'variable.delete', { type: 'variable', id: `${projectId}/${name}` }, projectId, { name });
  }

  /** What a push commits for this environment: plain values and the secrets' names, never a secret value. */
  async environmentFile(projectId: string): Promise<EnvironmentFile> {
    const file: EnvironmentFile = { variables: {}, secrets: [] };
    // A runtime without SQL storage has no variables: its environment file is empty.
    const variables = (this.runtime as { variables?: Variables }).variables;
    for (const v of variables ? await variables.store.list(projectId) : []) {
      if (v.secretCredentialId) file.secrets.push(v.name);
      else file.variables[v.name] = v.value ?? '';
    }
    return file;
  }

  /**
   * Store the plain variables of a pulled environment file (one transaction; secrets are never in Git). Returns the
   * names changed and the secret names the file lists that this instance has not set (the caller reports them).
   */
  async applyEnvironmentFile(actor: Actor, projectId: string, file: EnvironmentFile): Promise<{ changed: string[]; missingSecrets: string[] }> {
    const current = new Map((await this.variables.store.list(projectId)).map((v) => [v.name, v]));
    const records: VariableRecord[] = [];
    for (const [name, value] of Object.entries(file.variables)) {
      checkName(name);
      const old = current.get(name);
      // A variable this instance keeps secret stays secret: Git never overrides it with a plain value.
      if (old?.secretCredentialId || old?.value === value) continue;
      records.push({ projectId, name, value, secretCredentialId: null, description: old?.description ?? null, updatedAt: Date.now(), updatedBy: actor.name });
    }
    await this.variables.store.put(records);
    const missingSecrets = file.secrets.filter((name) => !current.get(name)?.secretCredentialId);
    if (records.length > 0) await this.audit.record(actor, 'variable.pull', { type: 'project', id: projectId }, projectId, { names: records.map((r) => r.name) });
    return { changed: records.map((r) => r.name), missingSecrets };
  }
}

/** Parse and check an environment file from the repository; every problem names the file. */
export function parseEnvironmentFile(file: string, text: string): EnvironmentFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const doc = parsed as Partial<EnvironmentFile> | null;
  const variables = doc?.variables ?? {};
  const secrets = doc?.secrets ?? [];
  if (typeof variables !== 'object' || Array.isArray(variables) || !Array.isArray(secrets)) throw new Error(`${file}: expected {"variables": {NAME: "value"}, "secrets": ["NAME"]}`);
  for (const [name, value] of Object.entries(variables)) {
    if (!VARIABLE_NAME.test(name)) throw new Error(`${file}: "${name}" is not a variable name`);
    if (typeof value !== 'string') throw new Error(`${file}: variable ${name} must be a string`);
  }
  for (const name of secrets) if (typeof name !== 'string' || !VARIABLE_NAME.test(name)) throw new Error(`${file}: secrets lists "${String(name)}", which is not a variable name`);
  return { variables: variables as Record<string, string>, secrets: secrets as string[] };
}

function secretId(projectId: string, name: string): string {
  return `variable:${projectId}:${name}`;
}

function checkName(name: string): void {
  if (!VARIABLE_NAME.test(name)) throw problem('/name', `"${name}" is not a variable name (a letter or "_", then letters, digits or "_"; up to 128)`);
}

function problem(pointer: string, message: string): ProblemError {
  return new ProblemError(422, 'Invalid variable', message, [{ pointer, message }]);
}

function view(record: VariableRecord): VariableView {
  return {
    name: record.name,
    secret: record.secretCredentialId !== null,
    value: record.secretCredentialId !== null ? null : record.value,
    description: record.description,
    updatedAt: record.updatedAt,
    updatedBy: record.updatedBy,
  };
}
