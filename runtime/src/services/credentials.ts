/**
 * Credentials, as an actor may see and change them: metadata only (names of fields, never values), per project.
 * Changes are audited without any value.
 */
import type { CredentialSummary } from '../credentials.ts';
import type { CredentialTestAnswer, CredentialTestInput } from '../credential-test.ts';
import { ProblemError, notFound } from '../errors.ts';
import { DEFAULT_PROJECT, SYSTEM_ACTOR, type Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import type { CredentialRecord } from '../storage/types.ts';
import { authorize, projectFilter, requirePermission } from './access.ts';
import type { AuditService } from './audit.ts';
import type { ProjectService } from './projects.ts';

export interface NewCredential {
  name: string;
  type: string;
  fields: Record<string, unknown>;
}

/** A field given a value replaces it, a field given null is removed, fields not mentioned keep their value. */
export interface CredentialPatch {
  name?: string;
  type?: string;
  fields?: Record<string, unknown>;
}

const projectOf = (record: CredentialRecord) => record.projectId ?? DEFAULT_PROJECT;

export class CredentialService {
  constructor(
    private readonly runtime: Runtime,
    private readonly projects: ProjectService,
    private readonly audit: AuditService,
  ) {
    runtime.executor.nodeServices.credentialWriter = (id, patch, reason) => this.writeBack(id, patch, reason);
  }

  /**
   * A node stores fields the server changed (a rotated refresh token): merged over the stored ones, checked against
   * the type's schema, audited as the system actor (field names and the node's reason, never a value). Not a user
   * edit: running nodes keep their revision (see NodeCredential.writeBack).
   */
  async writeBack(id: string, patch: Record<string, unknown>, reason: string): Promise<{ fields: Record<string, unknown>; data: string }> {
    const stored = await this.runtime.vault.patchFields(id, patch, (type, fields) => this.checkFields(type, fields));
    if (!stored) throw notFound(`credential "${id}" (deleted while in use: its write-back was not stored)`);
    const record = await this.runtime.storage.getCredential(id);
    await this.audit.record(SYSTEM_ACTOR, 'credential.write-back', { type: 'credential', id }, record ? projectOf(record) : undefined, { fields: Object.keys(patch), reason: reason.slice(0, 200) });
    return stored;
  }

  private async visible(actor: Actor, id: string, permission: 'credential:read' | 'credential:write'): Promise<CredentialRecord> {
    const record = await this.runtime.storage.getCredential(id);
    if (!record) throw notFound(`credential "${id}"`);
    authorize(actor, permission, projectOf(record), 'credential:read', `credential "${id}"`);
    return record;
  }

  async list(actor: Actor): Promise<CredentialSummary[]> {
    requirePermission(actor, 'credential:read');
    const readable = projectFilter(actor, 'credential:read');
    return (await this.runtime.vault.list()).filter((c) => readable(c.projectId));
  }

  async get(actor: Actor, id: string): Promise<CredentialSummary> {
    await this.visible(actor, id, 'credential:read');
    const summary = (await this.runtime.vault.list()).find((c) => c.id === id);
    if (!summary) throw notFound(`credential "${id}"`);
    return summary;
  }

  /** Fields must match their credential type's schema (when a pack declares the type), so a node never gets a half credential. */
  private checkFields(type: string, fields: Record<string, unknown>): void {
    const issues = this.runtime.registry.checkCredentialFields(type, fields);
    if (issues.length > 0) throw new ProblemError(422, 'Invalid credential', `the fields do not match credential type "${type}"`, issues);
  }

  async create(actor: Actor, input: NewCredential, projectId = DEFAULT_PROJECT): Promise<CredentialSummary> {
    await this.projects.requireWritable(actor, projectId, 'credential:write');
    this.checkFields(input.type, input.fields);
    const summary = await this.runtime.vault.save({ ...input, projectId });
    await this.audit.record(actor, 'credential.create', { type: 'credential', id: summary.id }, projectId, { name: summary.name, type: summary.type, fields: summary.fields });
    return summary;
  }

  async update(actor: Actor, id: string, patch: CredentialPatch): Promise<CredentialSummary> {
    const record = await this.visible(actor, id, 'credential:write');
    if (patch.fields !== undefined || patch.type !== undefined) {
      const merged: Record<string, unknown> = { ...((await this.runtime.vault.resolve(id)) ?? {}) };
      for (const [name, value] of Object.entries(patch.fields ?? {})) {
        if (value === null) delete merged[name];
        else merged[name] = value;
      }
      this.checkFields(patch.type ?? record.type, merged);
    }
    const summary = await this.runtime.vault.update(id, patch);
    if (!summary) throw notFound(`credential "${id}"`); // deleted meanwhile
    await this.runtime.credentialChanged(id); // deployed nodes use the new fields from now on
    const changed = Object.keys(patch.fields ?? {});
    await this.audit.record(actor, 'credential.update', { type: 'credential', id }, projectOf(record), {
      ...(patch.name !== undefined ? { name: patch.name } : {}),
      ...(patch.type !== undefined ? { type: patch.type } : {}),
      ...(changed.length ? { fields: changed } : {}),
    });
    return summary;
  }

  async delete(actor: Actor, id: string): Promise<void> {
    const record = await this.visible(actor, id, 'credential:write');
    if (!(await this.runtime.vault.delete(id))) throw notFound(`credential "${id}"`);
    await this.runtime.credentialChanged(id); // connections opened with it are closed
    await this.audit.record(actor, 'credential.delete', { type: 'credential', id }, projectOf(record), { name: record.name });
  }

  /**
   * "Test connection": the credential type's test on new fields (`type` + `fields`), or on a stored credential the
   * actor may change, with some fields replaced (`fields`). Nothing is stored; the answer holds no secret.
   */
  async test(actor: Actor, input: CredentialTestInput): Promise<CredentialTestAnswer> {
    if (input.id !== undefined) await this.visible(actor, input.id, 'credential:write');
    else requirePermission(actor, 'credential:write');
    return this.runtime.testCredential(input);
  }

  /** Checks the input of create (the route's schema already checked the shape): 422 with pointers. */
  static checkNew(body: Partial<NewCredential>): NewCredential {
    const issues = [
      ...(typeof body.name === 'string' && body.name.trim() ? [] : [{ pointer: '/name', message: 'is required' }]),
      ...(typeof body.type === 'string' && body.type.trim() ? [] : [{ pointer: '/type', message: 'is required' }]),
    ];
    if (issues.length) throw new ProblemError(422, 'Invalid credential', 'the credential is incomplete', issues);
    return body as NewCredential;
  }
}
