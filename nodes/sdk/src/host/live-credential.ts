/**
 * The NodeCredential a host hands nodes: one object per credential, shared by every node that uses it, updated in
 * place when the stored credential changes (fields replaced, revision bumped, listeners told).
 */
import { isDeepStrictEqual } from 'node:util';
import type { NodeCredential } from '../credential-types.ts';

export class LiveCredential<F extends Record<string, unknown> = Record<string, unknown>> implements NodeCredential<F> {
  private current: F;
  private rev: number;
  private readonly listeners = new Set<(credential: NodeCredential<F>) => void>();

  /**
   * How this host stores a node's write-back (see NodeCredential.writeBack): resolves with the fields as stored
   * after the patch. Without one, writeBack rejects.
   */
  writer: ((patch: Partial<F>, reason: string) => Promise<F>) | undefined;

  constructor(
    readonly id: string,
    readonly type: string,
    fields: F,
    revision = 1,
  ) {
    this.current = fields;
    this.rev = revision;
  }

  get revision(): number {
    return this.rev;
  }

  get fields(): F {
    return this.current;
  }

  onChange(listener: (credential: NodeCredential<F>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async writeBack(patch: Partial<F>, reason: string): Promise<void> {
    if (!this.writer) throw new Error(`credential "${this.id}" cannot be written back here (the host stores no credentials)`);
    // Same revision: resources opened with the old values stay valid; listeners are told of edits, not of this.
    this.current = await this.writer(patch, reason);
  }

  /** Take the stored fields: when they differ from the current ones, bump the revision and tell listeners. */
  update(fields: F): boolean {
    if (isDeepStrictEqual(fields, this.current)) return false;
    this.current = fields;
    this.rev++;
    for (const listener of [...this.listeners]) {
      try {
        listener(this);
      } catch {
        /* one node's listener failing must not keep the others from hearing */
      }
    }
    return true;
  }
}
