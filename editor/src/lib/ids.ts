/** Ids for new nodes and flows. getRandomValues works on plain http too (randomUUID needs a secure context). */

function randomHex(bytes: number): string {
  const buffer = new Uint8Array(bytes);
  crypto.getRandomValues(buffer);
  return [...buffer].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** A node id that does not clash with `taken`; short so pointers and logs stay readable. */
export function newNodeId(taken: ReadonlySet<string> | ((id: string) => boolean)): string {
  const isTaken = typeof taken === 'function' ? taken : (id: string) => taken.has(id);
  for (;;) {
    const id = `n${randomHex(4)}`;
    if (!isTaken(id)) return id;
  }
}

/** A flow id from its name (kept within the runtime's identifier pattern), made unique with a random suffix. */
export function newFlowId(name: string, taken: ReadonlySet<string>): string {
  const slug =
    name
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'flow';
  if (!taken.has(slug)) return slug;
  for (;;) {
    const id = `${slug}-${randomHex(2)}`;
    if (!taken.has(id)) return id;
  }
}
