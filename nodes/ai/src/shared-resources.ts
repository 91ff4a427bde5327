/**
 * Connections shared across node instances in one process (an MCP server, a vector store's database), counted
 * by holders and closed a while after the last one lets go. The linger matters because the runtime creates a
 * fresh node instance for every tool call: without it each call would reconnect, or re-spawn an MCP server.
 */

interface Entry<T> {
  value: Promise<T>;
  holders: number;
  timer?: NodeJS.Timeout;
  /** Never closed for being idle, only by closeAll. */
  keepOpen: boolean;
}

export interface Lease<T> {
  value: T;
  release(): void;
}

export class SharedResources<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly close: (value: T) => Promise<void> | void,
    private readonly lingerMs = 30_000,
  ) {}

  /** `keepOpen`: never close it for being idle (e.g. an in-memory database, whose data would go with it). */
  async acquire(key: string, open: () => Promise<T>, options: { keepOpen?: boolean } = {}): Promise<Lease<T>> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { value: open(), holders: 0, keepOpen: options.keepOpen ?? false };
      this.entries.set(key, entry);
      const created = entry;
      created.value.catch(() => {
        if (this.entries.get(key) === created) this.entries.delete(key); // a failed open is retried next time
      });
    }
    clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.holders++;
    let value: T;
    try {
      value = await entry.value;
    } catch (error) {
      entry.holders--;
      throw error;
    }
    let released = false;
    const held = entry;
    return {
      value,
      release: () => {
        if (released) return;
        released = true;
        held.holders--;
        if (held.holders > 0 || held.keepOpen || this.entries.get(key) !== held) return;
        held.timer = setTimeout(() => void this.evict(key, held), this.lingerMs);
        held.timer.unref(); // never keep the process alive for an idle connection
      },
    };
  }

  private async evict(key: string, entry: Entry<T>): Promise<void> {
    if (entry.holders > 0 || this.entries.get(key) !== entry) return;
    this.entries.delete(key);
    await Promise.resolve(this.close(await entry.value)).catch(() => undefined);
  }

  /** Close everything now (tests, shutdown). */
  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    this.entries.clear();
    await Promise.allSettled(
      entries.map(async (e) => {
        clearTimeout(e.timer);
        await this.close(await e.value);
      }),
    );
  }
}
