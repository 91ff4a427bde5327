/**
 * FLOWCREW_ENV_PASSTHROUGH: the process environment variables an administrator lets flows read (resolver.ts), as
 * names or NAME_* prefixes. Kept free of imports: config.ts parses it at start.
 */
const PASSTHROUGH = /^[A-Za-z_][A-Za-z0-9_]*\*?$/;

/** Parse FLOWCREW_ENV_PASSTHROUGH (config.ts): names and NAME_* prefixes; a malformed entry stops the start, named. */
export function parsePassthrough(text: string | undefined): string[] {
  const entries = (text ?? '').split(',').map((n) => n.trim()).filter(Boolean);
  for (const entry of entries) {
    if (!PASSTHROUGH.test(entry)) throw new Error(`FLOWCREW_ENV_PASSTHROUGH: "${entry}" is neither a variable name nor a NAME_* prefix`);
  }
  return entries;
}

export function passthroughMatcher(entries: readonly string[]): (name: string) => boolean {
  const names = new Set(entries.filter((e) => !e.endsWith('*')));
  const prefixes = entries.filter((e) => e.endsWith('*')).map((e) => e.slice(0, -1));
  return (name) => names.has(name) || prefixes.some((p) => name.startsWith(p));
}

