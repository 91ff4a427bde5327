/**
 * State a node keeps across messages (waiting messages, timers' deadlines), mirrored into its node context so
 * that a restart or redeploy carries on with it, as join's groups do. A value the context refuses (over
 * FLOWCREW_CONTEXT_VALUE_MAX_KB, or the flow's context quota) stays in memory only, with a warning: the node keeps
 * working, only that state would not survive a restart.
 */
import type { ContextStore, InputContext, Logger } from '@flowcrew/sdk';

export class KeptState {
  private warned = false;

  constructor(
    private readonly store: ContextStore,
    private readonly prefix: string,
    private readonly log: Logger,
  ) {}

  set(key: string, value: unknown): void {
    try {
      this.store.set(this.prefix + key, value);
    } catch (error) {
      if (!this.warned) this.log.warn(`${this.prefix}${key}: kept in memory only, it will not survive a restart: ${(error as Error).message}`);
      this.warned = true;
    }
  }

  get(key: string): unknown {
    return this.store.get(this.prefix + key);
  }

  delete(key: string): void {
    try {
      this.store.set(this.prefix + key, undefined);
    } catch {
      /* removing cannot exceed a limit */
    }
  }

  /** Every kept key (without the prefix) and its value. */
  entries(): Array<[string, unknown]> {
    return this.store
      .keys()
      .filter((k) => k.startsWith(this.prefix))
      .map((k) => [k.substring(this.prefix.length), this.store.get(k)] as [string, unknown])
      .filter(([, v]) => v !== undefined);
  }
}

/** The invocation a message is handled in: the same on every attempt and when a restart replays it. */
export function invocationKey(ctx: Pick<InputContext, 'idempotencyKey'>): string {
  const key = ctx.idempotencyKey;
  return key.slice(0, key.lastIndexOf(':'));
}

interface Carried<T> {
  /** The invocation that made `after` out of `before`. */
  inv: string;
  before: T;
  after: T;
}

/**
 * One value a node carries from message to message (split's stream leftover, csv's columns, switch's held
 * sequences), kept in its node context with the invocation that last changed it and the value it changed. The
 * context write commits before the invocation's completion does (the storage writes in order), so a crash between
 * the two replays that invocation: it then starts again from the value it started from, not from its own result.
 * Values are treated as immutable: a node builds a new value rather than changing the one it was given.
 */
export class CarriedState<T> {
  private current: Carried<T> | undefined;
  private readonly kept: KeptState;

  constructor(
    private readonly store: ContextStore,
    private readonly key: string,
    log: Logger,
    private readonly initial: T,
  ) {
    this.kept = new KeptState(store, '', log);
  }

  /** The value invocation `inv` starts from. */
  begin(inv: string): T {
    // Context is read once (what a previous instance left); from then on memory is the authority.
    this.current ??= (this.store.get(this.key) as Carried<T> | undefined) ?? { inv: '', before: this.initial, after: this.initial };
    return this.current.inv === inv ? this.current.before : this.current.after;
  }

  /** Invocation `inv` (which began with `before`) leaves `after`. */
  end(inv: string, before: T, after: T): void {
    this.current = { inv, before, after };
    this.kept.set(this.key, this.current);
  }
}
