/**
 * A node's dynamic choices for the editor's form (NodeDefinition.optionSources): run in the runtime, with the
 * node's credential decrypted here and never sent back, through the same services nodes get (the outbound guard).
 * Who may: anyone editing flows (flow:write) who may read the credential they name in its project.
 */
import type { NodeOption } from '@flowcrew/sdk';
import { notFound, ProblemError } from '../errors.ts';
import { Redactor } from '../executor/redaction.ts';
import { DEFAULT_PROJECT, type Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize, requirePermission } from '../services/access.ts';

const TIMEOUT_MS = 20_000;

export class NodeOptionsService {
  constructor(private readonly runtime: Runtime) {}

  async options(actor: Actor, type: string, source: string, input: { props?: Record<string, unknown>; credentials?: string }): Promise<NodeOption[]> {
    requirePermission(actor, 'flow:write');
    const definition = this.runtime.registry.get(type);
    if (!definition) throw notFound(`node type "${type}"`);
    const run = definition.optionSources?.[source];
    if (!run) throw notFound(`option source "${source}" of node type "${type}"`);
    let fields: Record<string, unknown> | undefined;
    if (input.credentials !== undefined) {
      const record = await this.runtime.storage.getCredential(input.credentials);
      if (!record) throw notFound(`credential "${input.credentials}"`);
      authorize(actor, 'credential:read', record.projectId ?? DEFAULT_PROJECT, 'credential:read', `credential "${input.credentials}"`);
      fields = await this.runtime.vault.resolve(input.credentials);
    }
    const signal = AbortSignal.timeout(TIMEOUT_MS);
    try {
      const options = await run({ props: input.props ?? {}, credentials: fields, services: this.runtime.executor.runtimeServices(), signal });
      return options.map((o) => ({ value: String(o.value), ...(o.label ? { label: String(o.label) } : {}), ...(o.description ? { description: String(o.description) } : {}) }));
    } catch (error) {
      // A client may echo what it was given (a URL with a token in an error): the secrets never leave.
      const redactor = new Redactor();
      if (fields) redactor.addCredential(fields, definition.credentials?.schema as Record<string, unknown> | undefined);
      const said = signal.aborted ? `no answer within ${TIMEOUT_MS / 1000} s` : (error as Error).message || String(error);
      throw new ProblemError(422, 'Options not available', redactor.text(`${type}: ${source}: ${said}`));
    }
  }
}
