/**
 * Flow / global / node context: synchronous reads from memory (nodes and the function sandbox read it inline),
 * writes kept in memory at once and persisted through storage's group commit.
 *
 * Context is loaded whole at every start and held in memory, so its size is capped for every node type: one value
 * may be at most `contextValueBytes` of JSON, and a flow's context (its flow scope and its nodes' scopes together)
 * or global context at most `contextScopeBytes`. A write over a cap throws, leaving what is stored unchanged.
 */
import type { ContextStore, Logger } from '@flowcrew/sdk';
import type { NodeLimits } from '../config.ts';
import type { Storage } from '../storage/types.ts';

/** Where context is persisted: the runtime's storage, or another store (context/dapr-state.ts). */
export type ContextStorage = Pick<Storage, 'loadContext' | 'setContext'> & {
  /** Wait for the writes in flight (at shutdown); storage's own close does this for the database. */
  flush?(): Promise<void>;
};

export type ContextLimits = Pick<NodeLimits, 'contextValueBytes' | 'contextScopeBytes'>;

export const DEFAULT_CONTEXT_LIMITS: ContextLimits = { contextValueBytes: 1024 * 1024, contextScopeBytes: 16 * 1048576 };

/** A context write over a size cap. */
export class ContextLimitError extends Error {}

/** Bytes held by the scopes that share one cap: a flow's flow and node scopes, or global context. */
class ContextBudget {
  used = 0;
  constructor(readonly label: string) {}
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1048576) return `${Math.round((bytes / 1024) * 10) / 10} KB`;
  return `${Math.round((bytes / 1048576) * 10) / 10} MB`;
}

export class PersistentContext implements ContextStore {
  /** Serialised size of each key's value, for the caps. */
  private readonly sizes = new Map<string, number>();

  private constructor(
    private readonly scope: string,
    private readonly values: Map<string, unknown>,
    private readonly storage: ContextStorage,
    private readonly log: Logger,
    private readonly budget: ContextBudget,
    private readonly limits: ContextLimits,
  ) {
    // Values stored before the caps existed (or under larger ones) stay readable; they only block growth.
    for (const [key, value] of values) {
      const bytes = Buffer.byteLength(JSON.stringify(value) ?? '');
      this.sizes.set(key, bytes);
      budget.used += bytes;
    }
  }

  static async load(scope: string, storage: ContextStorage, log: Logger, budget: ContextBudget, limits: ContextLimits): Promise<PersistentContext> {
    const stored = await storage.loadContext(scope);
    return new PersistentContext(scope, new Map(Object.entries(stored)), storage, log, budget, limits);
  }

  get(key: string): unknown {
    const value = this.values.get(key);
    // Hand out a copy so a caller mutating the object does not change stored state behind storage's back.
    return value !== null && typeof value === 'object' ? structuredClone(value) : value;
  }

  set(key: string, value: unknown): void {
    const before = this.sizes.get(key) ?? 0;
    if (value === undefined) {
      this.values.delete(key);
      this.sizes.delete(key);
      this.budget.used -= before;
    } else {
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined) throw new TypeError(`context value "${key}" is not JSON data (got ${typeof value})`);
      const bytes = Buffer.byteLength(json);
      const { contextValueBytes, contextScopeBytes } = this.limits;
      if (bytes > contextValueBytes) {
        throw new ContextLimitError(`context value "${key}" is ${size(bytes)}, more than the limit of ${size(contextValueBytes)} per value (FLOWCREW_CONTEXT_VALUE_MAX_KB)`);
      }
      const total = this.budget.used - before + bytes;
      if (bytes > before && total > contextScopeBytes) {
        throw new ContextLimitError(
          `context value "${key}" refused: ${this.budget.label} would hold ${size(total)}, more than its limit of ${size(contextScopeBytes)} (FLOWCREW_CONTEXT_MAX_MB); delete keys it no longer needs`,
        );
      }
      this.values.set(key, JSON.parse(json) as unknown);
      this.sizes.set(key, bytes);
      this.budget.used = total;
    }
    // undefined deletes the key in storage too (as Node-RED's context.set(key, undefined)); null is a value.
    this.storage.setContext(this.scope, key, value).catch((error: unknown) => {
      this.log.error(`could not persist context "${this.scope}" key "${key}": ${(error as Error).message}`);
    });
  }

  keys(): string[] {
    return [...this.values.keys()];
  }
}

/**
 * Caches one PersistentContext per scope so every node of a flow shares the same flow context. Scopes are 'global',
 * `flow:<flowId>` and `node:<flowId>:<nodeId>`; a node scope counts against its flow's cap.
 */
export class ContextRegistry {
  private readonly scopes = new Map<string, Promise<PersistentContext>>();
  private readonly budgets = new Map<string, ContextBudget>();
  private readonly global = new ContextBudget('global context');

  constructor(
    private readonly storage: ContextStorage,
    private readonly log: Logger,
    private readonly limits: ContextLimits = DEFAULT_CONTEXT_LIMITS,
  ) {}

  get(scope: string): Promise<PersistentContext> {
    let context = this.scopes.get(scope);
    if (!context) {
      context = PersistentContext.load(scope, this.storage, this.log, this.budgetOf(scope), this.limits);
      this.scopes.set(scope, context);
    }
    return context;
  }

  private budgetOf(scope: string): ContextBudget {
    if (scope === 'global') return this.global;
    if (scope.startsWith('flow:')) return this.flowBudget(scope.slice('flow:'.length));
    if (scope.startsWith('node:')) {
      // Ids may contain ':': the node belongs to the longest flow id (deploy loads the flow scope first) it starts with.
      let owner: string | undefined;
      for (const flowId of this.budgets.keys()) {
        if (scope.startsWith(`node:${flowId}:`) && (owner === undefined || flowId.length > owner.length)) owner = flowId;
      }
      if (owner !== undefined) return this.flowBudget(owner);
    }
    return new ContextBudget(`context "${scope}"`);
  }

  private flowBudget(flowId: string): ContextBudget {
    let budget = this.budgets.get(flowId);
    if (!budget) this.budgets.set(flowId, (budget = new ContextBudget(`the context of flow "${flowId}" (flow and node scopes)`)));
    return budget;
  }
}
