/**
 * State a sequence node keeps across messages (waiting messages, timers' deadlines), mirrored into its node context so
 * that a restart or redeploy carries on with it, as join's groups do. A value the context refuses (over
 * FLOWCREW_CONTEXT_VALUE_MAX_KB, or the flow's context quota) stays in memory only, with a warning: the node keeps
 * working, only that state would not survive a restart.
 */
import type { ContextStore, Logger } from '@flowcrew/sdk';

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
