/**
 * Compiles the runtime and the workspace packs to plain JavaScript under dist/compiled/<fingerprint>/, a mirror of the
 * repository (`npm start` runs the CLI from dist/compiled/current, a link to the latest build). Running TypeScript through tsx costs a loader thread with its own V8 isolate
 * (~39 MB) and keeps every module's source with its inline source map on the heap; compiled modules cost neither.
 *
 * The mirror keeps every path the code computes from its own location: each workspace package is copied whole (its
 * data files, schemas, sandbox scripts) with a `.js` beside each `.ts` and its package.json pointing at the `.js`;
 * `node_modules/@flowcrew/*` in the build point at the compiled packages, the other installed packages are links to
 * the repository's node_modules, and so are the other top-level entries (flows, editor, .models, ...). Usage: node --import tsx runtime/src/cli/compile.ts [--out <dir>]
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { build, version as esbuildVersion, type Plugin } from 'esbuild';
import { isRunning } from '../registry/module-generations.ts';

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

/** Files of a workspace package that go into a build (its own node_modules and tests left out), sorted. */
async function packageFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules') files.push(...(await packageFiles(full)));
    else if (entry.isFile() && !entry.name.endsWith('.test.ts')) files.push(full);
  }
  return files.sort();
}

/** What a build is made of: every workspace file that goes into it, this compiler and esbuild's version. */
async function fingerprint(): Promise<string> {
  const hash = createHash('sha256').update(esbuildVersion).update(await readFile(import.meta.filename));
  for (const workspace of await workspaces()) {
    for (const file of await packageFiles(path.join(repoRoot, workspace))) hash.update(path.relative(repoRoot, file)).update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

const COMPLETE = '.complete';
const BUILD_NAME = /^[0-9a-f]{16}$/;
/** Builds other than the current one are removed after this long (a runtime started from one may still import from it). */
const KEEP_OLD_BUILDS_MS = 24 * 3600_000;

/**
 * Compile into `<outRoot>/<fingerprint>` unless that build exists already, and point `<outRoot>/current` at it.
 * Builds are made aside and renamed into place, and `current` is switched by a rename, so two compiles at once (two
 * `npm start`s, a benchmark) never remove files from under a runtime that is starting or running. Returns the build.
 */
export async function compile(outRoot = path.join(repoRoot, 'dist', 'compiled')): Promise<string> {
  await mkdir(outRoot, { recursive: true });
  const id = await fingerprint();
  const out = path.join(outRoot, id);
  if (!existsSync(path.join(out, COMPLETE))) {
    const staging = path.join(outRoot, `.staging-${id}-${process.pid}`);
    await buildInto(staging);
    await writeFile(path.join(staging, COMPLETE), '');
    await rename(staging, out).catch(async (error: NodeJS.ErrnoException) => {
      // Another compile of the same sources finished first: its build is the same.
      if (!existsSync(path.join(out, COMPLETE))) throw error;
      await rm(staging, { recursive: true, force: true });
    });
  } else console.log(`compiled modules are up to date in ${path.relative(process.cwd(), out) || out}`);
  const link = path.join(outRoot, `.current-${process.pid}`);
  await rm(link, { force: true });
  await symlink(id, link);
  await rename(link, path.join(outRoot, 'current'));
  await removeOldBuilds(outRoot, id);
  return out;
}

async function removeOldBuilds(outRoot: string, keep: string): Promise<void> {
  for (const entry of await readdir(outRoot)) {
    const full = path.join(outRoot, entry);
    const staging = /^\.staging-[0-9a-f]+-(\d+)$/.exec(entry);
    if (staging && !isRunning(Number(staging[1]))) await rm(full, { recursive: true, force: true });
    if (!BUILD_NAME.test(entry) || entry === keep) continue;
    const built = await stat(path.join(full, COMPLETE)).catch(() => null);
    if (!built || Date.now() - built.mtimeMs > KEEP_OLD_BUILDS_MS) await rm(full, { recursive: true, force: true });
  }
}

async function buildInto(out: string): Promise<void> {
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
      // Relative: the build is renamed into place once made.
      const link = path.join(out, 'node_modules', manifest.name);
      await symlink(path.relative(path.dirname(link), to), link);
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
  console.log(`compiled ${entryPoints.length} modules in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const i = process.argv.indexOf('--out');
  await compile(i >= 0 && process.argv[i + 1] ? path.resolve(process.argv[i + 1]!) : undefined);
}
