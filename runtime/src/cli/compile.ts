/**
 * Compiles the runtime and the workspace packs to plain JavaScript under dist/compiled/, a mirror of the repository
 * (`npm start` runs the CLI from there). Running TypeScript through tsx costs a loader thread with its own V8 isolate
 * (~39 MB) and keeps every module's source with its inline source map on the heap; compiled modules cost neither.
 *
 * The mirror keeps every path the code computes from its own location: each workspace package is copied whole (its
 * data files, schemas, sandbox scripts) with a `.js` beside each `.ts` and its package.json pointing at the `.js`;
 * `dist/compiled/node_modules/@flowcrew/*` point at the compiled packages, the other installed packages are links to
 * the repository's node_modules, and so are the other top-level entries (flows, editor, .models, ...). Usage: node --import tsx runtime/src/cli/compile.ts [--out <dir>]
 */
import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { build, type Plugin } from 'esbuild';

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
const SKIP_AT_ROOT = new Set(['.git', 'node_modules', 'dist', 'runtime', 'nodes']);

/** The workspace packages: the runtime and every package under nodes/. */
async function workspaces(): Promise<string[]> {
  const packs = (await readdir(path.join(repoRoot, 'nodes'), { withFileTypes: true })).filter((e) => e.isDirectory() && existsSync(path.join(repoRoot, 'nodes', e.name, 'package.json')));
  return ['runtime', ...packs.map((e) => path.join('nodes', e.name))];
}

/** `.ts` source files of a package (tests and declarations left out: they are never imported by the runtime). */
async function sources(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.d.ts') || /\.test(-helper)?\.ts$/.test(entry.name)) continue;
    const full = path.join(entry.parentPath, entry.name);
    if (full.split(path.sep).includes('node_modules')) continue;
    found.push(full);
  }
  return found;
}

const toJs = (specifier: string) => specifier.replace(/\.([mc]?)ts$/, '.$1js');

/**
 * Every import stays an import (nothing is bundled); a relative one to a `.ts` file is pointed at its `.js`. JSON
 * imported with `with { type: 'json' }` is inlined: esbuild drops import attributes from external imports.
 */
const keepImports: Plugin = {
  name: 'keep-imports',
  setup(b) {
    b.onResolve({ filter: /.*/ }, (args) => {
      if (args.kind === 'entry-point' || args.with.type === 'json') return undefined;
      return { path: args.path.startsWith('.') ? toJs(args.path) : args.path, external: true };
    });
  },
};

/** package.json values naming `.ts` modules (exports, flowcrew.nodes) name the compiled `.js`. */
function pointAtJs(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith('./') ? toJs(value) : value;
  if (Array.isArray(value)) return value.map(pointAtJs);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, pointAtJs(v)]));
  return value;
}

export async function compile(out = path.join(repoRoot, 'dist', 'compiled')): Promise<string> {
  const started = performance.now();
  await rm(out, { recursive: true, force: true });
  await mkdir(path.join(out, 'node_modules', '@flowcrew'), { recursive: true });
  for (const entry of await readdir(repoRoot)) {
    if (!SKIP_AT_ROOT.has(entry)) await symlink(path.join(repoRoot, entry), path.join(out, entry));
  }
  // The installed dependencies, linked one by one (the compiled tree may live outside the repository).
  for (const entry of await readdir(path.join(repoRoot, 'node_modules'))) {
    if (entry !== '@flowcrew') await symlink(path.join(repoRoot, 'node_modules', entry), path.join(out, 'node_modules', entry));
  }
  const entryPoints: string[] = [];
  for (const workspace of await workspaces()) {
    const from = path.join(repoRoot, workspace);
    const to = path.join(out, workspace);
    await cp(from, to, { recursive: true, filter: (source) => !/\.test\.ts$/.test(source) && (path.basename(source) !== 'node_modules' || path.dirname(source) !== from) });
    // Dependencies installed inside the package (versions that differ from the root's) resolve as before.
    if (existsSync(path.join(from, 'node_modules'))) await symlink(path.join(from, 'node_modules'), path.join(to, 'node_modules'));
    const manifest = JSON.parse(await readFile(path.join(from, 'package.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['main', 'exports', 'flowcrew']) if (manifest[key] !== undefined) manifest[key] = pointAtJs(manifest[key]);
    await writeFile(path.join(to, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    if (typeof manifest.name === 'string' && manifest.name.startsWith('@flowcrew/')) {
      await symlink(to, path.join(out, 'node_modules', manifest.name));
    }
    entryPoints.push(...(await sources(to)));
  }
  await build({
    entryPoints,
    outdir: out,
    outbase: out,
    bundle: true,
    plugins: [keepImports],
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: false,
    logLevel: 'warning',
  });
  console.log(`compiled ${entryPoints.length} modules to ${path.relative(process.cwd(), out) || out} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const i = process.argv.indexOf('--out');
  await compile(i >= 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]!) : undefined);
}
