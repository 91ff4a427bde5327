/**
 * Flow / global / node context: synchronous reads from memory (nodes and the function sandbox read it inline),
 * writes kept in memory at once and persisted through storage's group commit.
 */
import type { ContextStore, Logger } from '@flowcrew/sdk';
import type { Storage } from '../storage/types.ts';

export class PersistentContext implements ContextStore {
  private constructor(
    private readonly scope: string,
    private readonly values: Map<string, unknown>,
    private readonly storage: Storage,
    private readonly log: Logger,
  ) {}

  static async load(scope: string, storage: Storage, log: Logger): Promise<PersistentContext> {
    const stored = await storage.loadContext(scope);
    return new PersistentContext(scope, new Map(Object.entries(stored)), storage, log);
  }

  get(key: string): unknown {
    const value = this.values.get(key);
    // Hand out a copy so a caller mutating the object does not change stored state behind storage's back.
    return value !== null && typeof value === 'object' ? structuredClone(value) : value;
  }

  set(key: string, value: unknown): void {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, JSON.parse(JSON.stringify(value)) as unknown);
    this.storage.setContext(this.scope, key, value === undefined ? null : value).catch((error: unknown) => {
      this.log.error(`could not persist context "${this.scope}" key "${key}": ${(error as Error).message}`);
    });
  }

  keys(): string[] {
    return [...this.values.keys()];
  }
}

/** Caches one PersistentContext per scope so every node of a flow shares the same flow context. */
export class ContextRegistry {
  private readonly scopes = new Map<string, Promise<PersistentContext>>();
  constructor(
    private readonly storage: Storage,
    private readonly log: Logger,
  ) {}

  get(scope: string): Promise<PersistentContext> {
    let context = this.scopes.get(scope);
    if (!context) {
      context = PersistentContext.load(scope, this.storage, this.log);
      this.scopes.set(scope, context);
    }
    return context;
  }
}
