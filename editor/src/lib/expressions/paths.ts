/**
 * Message paths for completion, read from a real message (the node's last input): `payload`, `payload.price`,
 * `payload.items.name` (JSONata maps a path over an array, so an array's items contribute their keys without an
 * index). Bounded, so a huge message cannot stall typing.
 */
export interface MessagePath {
  path: string;
  /** The JSON type at that path and a short sample, shown next to the completion. */
  detail: string;
}

const MAX_PATHS = 300;
const MAX_DEPTH = 5;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array (${value.length})`;
  if (typeof value === 'object') return 'object';
  if (typeof value === 'string') return `"${value.length > 24 ? `${value.slice(0, 24)}…` : value}"`;
  return String(value);
}

/** A JSONata name: plain when it is one, else in backticks. */
export function pathSegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? key : `\`${key.replace(/`/g, '')}\``;
}

export function messagePaths(message: unknown): MessagePath[] {
  const paths: MessagePath[] = [];
  const seen = new Set<string>();
  const visit = (value: unknown, prefix: string, depth: number) => {
    if (paths.length >= MAX_PATHS || depth > MAX_DEPTH) return;
    // An array's items are reached through the array's own path (JSONata maps over it); the first few shape the keys.
    const record = Array.isArray(value) ? value.slice(0, 5).find((item) => item && typeof item === 'object' && !Array.isArray(item)) : value;
    if (!record || typeof record !== 'object' || Array.isArray(record)) return;
    for (const [key, child] of Object.entries(record as Record<string, unknown>)) {
      const path = prefix ? `${prefix}.${pathSegment(key)}` : pathSegment(key);
      if (seen.has(path)) continue;
      seen.add(path);
      paths.push({ path, detail: describe(child) });
      if (paths.length >= MAX_PATHS) return;
      visit(child, path, depth + 1);
    }
  };
  visit(message, '', 1);
  return paths;
}
