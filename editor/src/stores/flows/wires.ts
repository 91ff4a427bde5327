/** Keeping wires attached to the rule they belong to when a switch's rules are removed or reordered. */
/**
 * Wires follow their array entry when one entry was removed or two neighbours swapped; otherwise they stay by index.
 */
export function remapWires(wires: string[][], before: unknown[], after: unknown[]): string[][] {
  const key = (v: unknown) => JSON.stringify(v);
  const b = before.map(key);
  const a = after.map(key);
  if (a.length === b.length - 1) {
    const removed = b.findIndex((v, i) => v !== a[i]);
    const at = removed < 0 ? b.length - 1 : removed;
    if (b.filter((_, i) => i !== at).every((v, i) => v === a[i])) return wires.filter((_, i) => i !== at);
  }
  if (a.length === b.length) {
    const diff = b.map((v, i) => (v !== a[i] ? i : -1)).filter((i) => i >= 0);
    if (diff.length === 2 && diff[1] === diff[0]! + 1 && b[diff[0]!] === a[diff[1]!] && b[diff[1]!] === a[diff[0]!]) {
      const next = [...wires];
      while (next.length <= diff[1]!) next.push([]);
      [next[diff[0]!], next[diff[1]!]] = [next[diff[1]!]!, next[diff[0]!]!];
      return next;
    }
  }
  return wires;
}
