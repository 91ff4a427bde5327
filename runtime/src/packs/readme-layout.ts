/**
 * What a pack's README must hold, in the layout `npm create flowcrew-nodes` writes (its template README): the
 * template's `##` sections in the same order (others may sit between them), and, true to the code,
 * - Nodes: every node type the pack registers, as `type`;
 * - Credentials: every credential type its nodes use (declared by the pack or inline in a definition), or "None";
 * - Example: at least one ```json flow that validates against the registry and uses one of the pack's types;
 * - Licence: package.json's `license` (or says it declares none) and every runtime dependency by name.
 * The palette manager shows this README, so a section that drifts from the code misleads whoever installs the pack.
 * Used by pack-kit.test.ts for the kit's own output and for every pack in nodes/*.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { validateFlow } from '../flow/validate.ts';
import type { NodeRegistry } from '../registry/registry.ts';

/** The `## ` headings of a Markdown text, in order (fenced code is skipped: a `##` in an example is not a heading). */
export function sections(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (line.startsWith('```')) fenced = !fenced;
    if (!fenced && line.startsWith('## ')) {
      current = line.slice(3).trim();
      out.set(current, '');
    } else if (current !== undefined) out.set(current, `${out.get(current)}${line}\n`);
  }
  return out;
}

function jsonBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```json\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

/**
 * Problems of the README in `packDir` (empty when it follows the layout). `registry` must have the pack loaded (and
 * whatever packs its example also uses, e.g. core); `templateReadme` is the kit's template README text.
 */
export async function readmeProblems(packDir: string, registry: NodeRegistry, templateReadme: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(path.join(packDir, 'package.json'), 'utf8')) as {
    name: string;
    license?: string;
    dependencies?: Record<string, string>;
    optionalDependencies?: Record<string, string>;
  };
  const where = path.join(path.basename(packDir), 'README.md');
  let text: string;
  try {
    text = await readFile(path.join(packDir, 'README.md'), 'utf8');
  } catch {
    return [`${where}: missing (the pack kit writes one; the palette manager shows it)`];
  }
  const problems: string[] = [];
  const want = [...sections(templateReadme).keys()];
  const have = [...sections(text).keys()];
  const order = want.map((h) => have.indexOf(h));
  want.forEach((h, i) => {
    if (order[i] === -1) problems.push(`${where}: no "## ${h}" section`);
  });
  const found = order.filter((i) => i !== -1);
  if (found.some((at, i) => i > 0 && at < found[i - 1]!)) problems.push(`${where}: sections not in the kit's order (${want.join(', ')})`);
  const part = sections(text);

  const pack = registry.pack(manifest.name);
  if (!pack || pack.status !== 'loaded') return [...problems, `${where}: pack ${manifest.name} is not loaded in the registry (${pack?.error ?? 'not found'})`];
  const nodes = part.get('Nodes') ?? '';
  for (const type of pack.types) if (!nodes.includes(`\`${type}\``)) problems.push(`${where}: "## Nodes" does not list \`${type}\``);

  const credentialTypes = new Set(pack.credentialTypes ?? []);
  for (const type of pack.types) {
    const credential = registry.get(type)?.credentials?.type;
    if (credential) credentialTypes.add(credential);
  }
  const credentials = part.get('Credentials') ?? '';
  for (const type of credentialTypes) if (!credentials.includes(`\`${type}\``)) problems.push(`${where}: "## Credentials" does not name \`${type}\``);
  if (credentialTypes.size === 0 && !/\bNone\b/.test(credentials)) problems.push(`${where}: "## Credentials" should say "None" (no node uses a credential)`);

  const examples = jsonBlocks(part.get('Example') ?? '');
  if (examples.length === 0) problems.push(`${where}: "## Example" has no \`\`\`json flow`);
  examples.forEach((source, i) => {
    let flow: { nodes?: Array<{ type?: string }> };
    try {
      flow = JSON.parse(source);
    } catch (error) {
      problems.push(`${where}: example ${i + 1} is not JSON: ${(error as Error).message}`);
      return;
    }
    const result = validateFlow(flow, registry);
    for (const issue of result.issues) problems.push(`${where}: example ${i + 1} ${issue.pointer}: ${issue.message}`);
    if (!flow.nodes?.some((n) => pack.types.includes(n.type ?? ''))) problems.push(`${where}: example ${i + 1} uses none of the pack's node types`);
  });

  const licence = part.get('Licence') ?? '';
  if (manifest.license ? !licence.includes(manifest.license) : !/declares no licence/.test(licence)) {
    problems.push(`${where}: "## Licence" must give package.json's license (${manifest.license ?? 'none: say it "declares no licence"'})`);
  }
  const dependencies = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }).filter((d) => d !== '@flowcrew/sdk');
  for (const dependency of dependencies) if (!licence.includes(`\`${dependency}\``)) problems.push(`${where}: "## Licence" does not name the dependency \`${dependency}\` (and its licence)`);
  return problems;
}
