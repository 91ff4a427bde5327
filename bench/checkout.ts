/** A revision of Flowcrew extracted to run beside this checkout (bench/rss.ts and bench/tail.ts compare revisions). */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readlinkSync, symlinkSync } from 'node:fs';
import path from 'node:path';

const repoRoot = path.resolve(import.meta.dirname, '..');

/** A checkout of `rev` that runs with this checkout's installed dependencies. */
export function checkout(rev: string, under: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', rev], { cwd: repoRoot }).toString().trim();
  const dir = path.join(under, sha);
  mkdirSync(dir, { recursive: true });
  execFileSync('bash', ['-c', `git archive ${sha} | tar -x -C ${JSON.stringify(dir)}`], { cwd: repoRoot });
  const modules = path.join(repoRoot, 'node_modules');
  mkdirSync(path.join(dir, 'node_modules', '@flowcrew'), { recursive: true });
  for (const entry of readdirSync(modules)) if (entry !== '@flowcrew') symlinkSync(path.join(modules, entry), path.join(dir, 'node_modules', entry));
  // Workspace links are relative (../../nodes/core): re-created inside the checkout, so its own packs load.
  for (const entry of readdirSync(path.join(modules, '@flowcrew'))) symlinkSync(readlinkSync(path.join(modules, '@flowcrew', entry)), path.join(dir, 'node_modules', '@flowcrew', entry));
  for (const nested of ['runtime', ...readdirSync(path.join(repoRoot, 'nodes')).map((n) => path.join('nodes', n))]) {
    const own = path.join(repoRoot, nested, 'node_modules');
    if (existsSync(own) && existsSync(path.join(dir, nested)) && !existsSync(path.join(dir, nested, 'node_modules'))) symlinkSync(own, path.join(dir, nested, 'node_modules'));
  }
  return dir;
}

