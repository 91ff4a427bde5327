/**
 * Undo/redo over whole-document snapshots. Flows are small JSON documents (a 1,000-node flow is a few hundred kB),
 * so snapshots are simpler and safer than inverse operations, and every kind of edit is undoable the same way.
 */
export class UndoHistory<T> {
  private past: Array<{ snapshot: T; key?: string }> = [];
  private future: T[] = [];

  constructor(private readonly limit = 200) {}

  /**
   * Record the state before an edit. Edits with the same `key` in a row (typing in one field) make one undo step,
   * and then the snapshot is not even taken (`before` is only called when needed).
   */
  record(before: () => T, key?: string): void {
    const last = this.past[this.past.length - 1];
    this.future = [];
    if (key !== undefined && last?.key === key) return;
    this.past.push({ snapshot: before(), key });
    if (this.past.length > this.limit) this.past.shift();
  }

  /** End coalescing: the next edit starts a new undo step even if it has the same key. */
  seal(): void {
    const last = this.past[this.past.length - 1];
    if (last) last.key = undefined;
  }

  undo(current: T): T | undefined {
    const entry = this.past.pop();
    if (!entry) return undefined;
    this.future.push(current);
    return entry.snapshot;
  }

  redo(current: T): T | undefined {
    const next = this.future.pop();
    if (next === undefined) return undefined;
    this.past.push({ snapshot: current });
    return next;
  }

  get canUndo(): boolean {
    return this.past.length > 0;
  }

  get canRedo(): boolean {
    return this.future.length > 0;
  }

  clear(): void {
    this.past = [];
    this.future = [];
  }
}
