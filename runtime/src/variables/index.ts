/**
 * Per-project environment variables: wiring for the runtime (storage, the executor's deploy hook). The service
 * (service.ts) is what actors use; the resolver (resolver.ts) is what deployed flows read.
 */
import type { Logger } from '@flowcrew/sdk';
import type { CredentialVault } from '../credentials.ts';
import type { FlowContexts } from '../executor/types.ts';
import type { FlowDocument } from '../flow/types.ts';
import type { Storage } from '../storage/types.ts';
import { VariableResolver, type FlowEnvironment } from './resolver.ts';
import { VariableStore } from './store.ts';

export interface Variables {
  store: VariableStore;
  resolver: VariableResolver;
  /** The executor's `environment` option. */
  environment(flow: FlowDocument, contexts?: FlowContexts): Promise<FlowEnvironment>;
}

/** The project of a flow document deployed before it is stored (an import with deploy stores after deploying). */
const deploying = new WeakMap<FlowDocument, string>();

/** Say which project `flow` (this very document) is being deployed into, before it is stored (runtime-flows.ts). */
export function deployingInProject(flow: FlowDocument, projectId: string): void {
  deploying.set(flow, projectId);
}

/** Undefined without SQL storage (there is nowhere to keep them). */
export function openVariables(parts: { storage: Storage; vault: CredentialVault; passthrough?: readonly string[]; log: Logger }): Variables | undefined {
  const driver = (parts.storage as { driver?: ConstructorParameters<typeof VariableStore>[0] }).driver;
  if (!driver) return undefined;
  const store = new VariableStore(driver);
  const projectOf = async (flow: FlowDocument) => deploying.get(flow) ?? (await parts.storage.getFlow(flow.id))?.projectId;
  const resolver = new VariableResolver(store, parts.vault, projectOf, parts.passthrough ?? [], parts.log);
  return { store, resolver, environment: (flow, contexts) => resolver.forFlow(flow, contexts) };
}
