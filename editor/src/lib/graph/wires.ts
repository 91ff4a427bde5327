/** Wire comparisons between the flow document and the litegraph links. */
export function linkKey(from: string, port: number, to: string): string {
  return `${from}\u0000${port}\u0000${to}`;
}

export function sameWires(a: string[][], b: string[][]): boolean {
  const trim = (w: string[][]) => {
    const copy = w.map((t) => [...t]);
    while (copy.length && copy[copy.length - 1]!.length === 0) copy.pop();
    return copy;
  };
  return JSON.stringify(trim(a)) === JSON.stringify(trim(b));
}
