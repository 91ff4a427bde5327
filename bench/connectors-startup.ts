/**
 * What the connector packs cost a runtime's start: each pack's index imported in a fresh process (as the registry
 * does at start, and as every test that starts a runtime does), and the whole registry load of nodes/ (all packs).
 * Each figure is the median of `--runs N` fresh processes (default 5). Run: node --import tsx bench/connectors-startup.ts
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 5;
const packs = ['db', 'mq', 'files', 'crm', 'protocols', 'transform'];

/** Milliseconds and peak RSS (MB) of `code` run in a fresh `node --import tsx` process; code prints the ms. */
function measure(code: string): { ms: number; rssMb: number } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root, encoding: 'utf8' });
  const [ms, rss] = out.trim().split('\n').pop()!.split(' ').map(Number);
  return { ms: ms!, rssMb: rss! };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function report(label: string, code: string): void {
  const samples = Array.from({ length: runs }, () => measure(code));
  const ms = median(samples.map((s) => s.ms));
  const rss = median(samples.map((s) => s.rssMb));
  console.log(`${label.padEnd(34)} ${String(Math.round(ms)).padStart(6)} ms   rss ${String(Math.round(rss)).padStart(4)} MB`);
}

const tail = `console.log(Math.round(performance.now() - t), Math.round(process.memoryUsage().rss / 1048576));`;
report('baseline (the SDK only)', `const t = performance.now(); await import('@flowcrew/sdk'); ${tail}`);
for (const pack of packs) {
  report(`import nodes/${pack}`, `await import('@flowcrew/sdk'); const t = performance.now(); await import('./nodes/${pack}/src/index.ts'); ${tail}`);
}
report(
  'registry: load every pack in nodes/',
  `const { NodeRegistry } = await import('./runtime/src/registry/registry.ts'); const t = performance.now(); await new NodeRegistry().loadPackagesIn('./nodes', 'workspace'); ${tail}`,
);
