/**
 * What a flow reads as its environment variables, resolved at each deploy (the executor's `environment` hook):
 *   0. its own variables (`env` of the flow document, Node-RED's tab env);
 *   1. its project's variables on this instance (= this environment): plain ones from the table, secret ones
 *      decrypted from the vault (their values are redacted from run history, live events and logs);
 *   2. then the process environment, only for names the administrator passed through (FLOWCREW_ENV_PASSTHROUGH:
 *      `NAME` or a `PREFIX_*` pattern). Nothing else of the host's environment is ever visible to a flow.
 */
import type { EnvReader, Logger } from '@flowcrew/sdk';
import { envReader } from '@flowcrew/sdk/util';
import type { CredentialVault } from '../credentials.ts';
import type { FlowContexts } from '../executor/types.ts';
import type { FlowDocument } from '../flow/types.ts';
import { flowEnvReader } from './flow-env.ts';
import { passthroughMatcher } from './passthrough.ts';
import type { VariableStore } from './store.ts';

/** A variable name: what Node-RED's `${NAME}` and a POSIX shell accept. */
export const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

export interface FlowEnvironment {
  env: EnvReader;
  /** Secret values (for redaction). */
  secrets: string[];
  /** The flow's project (handed to its nodes as NodeInit.projectId). */
  projectId?: string;
}

export class VariableResolver {
  private readonly allowed: (name: string) => boolean;

  constructor(
    /** Undefined without SQL storage: a flow then reads its own variables and the passed-through ones only. */
    private readonly store: VariableStore | undefined,
    private readonly vault: CredentialVault,
    /** The project a flow belongs to (undefined: not a stored flow, e.g. a sandbox copy of an unsaved one). */
    private readonly projectOf: (flow: FlowDocument) => Promise<string | undefined>,
    passthrough: readonly string[],
    private readonly log: Logger,
    private readonly processEnv: NodeJS.ProcessEnv = process.env,
  ) {
    this.allowed = passthroughMatcher(passthrough);
  }

  /** The project's variables as a map (secrets decrypted); a secret whose credential is gone is left out, with a warning. */
  async values(projectId: string): Promise<{ values: Record<string, string>; secrets: string[] }> {
    const values: Record<string, string> = {};
    const secrets: string[] = [];
    for (const variable of (await this.store?.list(projectId)) ?? []) {
      if (variable.secretCredentialId === null) {
        values[variable.name] = variable.value ?? '';
        continue;
      }
      const fields = await this.vault.resolve(variable.secretCredentialId);
      if (!fields || typeof fields.value !== 'string') {
        this.log.warn(`project "${projectId}": secret variable ${variable.name} has no value in the vault (credential "${variable.secretCredentialId}" is gone): set it again`);
        continue;
      }
      values[variable.name] = fields.value;
      secrets.push(fields.value);
    }
    return { values, secrets };
  }

  async forFlow(flow: FlowDocument, contexts?: FlowContexts): Promise<FlowEnvironment> {
    const projectId = await this.projectOf(flow);
    const { values, secrets } = projectId === undefined ? { values: {}, secrets: [] } : await this.values(projectId);
    const project = envReader(values);
    const parent: EnvReader = {
      get: (name) => project.get(name) ?? (this.allowed(name) ? this.processEnv[name] : undefined),
      value: (name) => parent.get(name),
    };
    // The flow's own variables (Node-RED's tab env, typed) come first, as Node-RED reads a flow's env before the global one.
    return { env: await flowEnvReader(flow, parent, this.log, contexts), secrets, ...(projectId === undefined ? {} : { projectId }) };
  }
}
