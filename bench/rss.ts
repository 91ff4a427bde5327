/**
 * RSS of the order webhook server (Flowcrew's CLI, history kept) built from several revisions, in alternating rounds
 * of one run, so a regression can be bisected on equal terms (the RSS after N requests depends on the machine's load
 * and on where V8's heap was in its growth cycle when the load stopped: only measurements of the same run compare).
 *
 * For each run: RSS at start and after N requests (plus the mean and max RSS over the second half of the load, and
 * the peak), V8's heap before and after a forced GC (bench/rss-probe.mjs, preloaded into the server), and the RSS by
 * mapping from /proc/<pid>/smaps ([heap] is malloc's main arena: SQLite's page cache lives there).
 *
 * Usage: node --import tsx bench/rss.ts [--rev <git rev>]... [--tree] [--tree-tsx] [--node-red] [--rounds 2] [--requests 20000]
 *        [--connections 50] [--node-args "<v8 flags>"] [--variant "<v8 flags>"]...
 *   --rev: a revision, extracted with `git archive` under the temp dir (node_modules linked to this checkout's,
 *          its own workspace packages linked to its own dirs); --tree: this working tree (the default without --rev).
 *   Each runs as `npm start` runs it: compiled to JavaScript where the revision has runtime/src/cli/compile.ts, else
 *   through tsx; --tree-tsx adds this working tree through tsx (what compiling saves, in the same run);
 *   --variant: each adds the first revision (or the tree) run again with these node flags, in the same alternation;
 *   --node-red: adds Node-RED 4 with the same order flow (bench/node-red.ts) to the alternation, the probe preloaded
 *          too, so its RSS after the same requests is measured in the same run (the target: Flowcrew <= 1.5x Node-RED's).
 * "after N requests" is right after the Nth request from the server's start (the readiness request counts).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { checkout } from './checkout.ts';
import { startFlowcrew, startNodeRed, type BenchServer } from './node-red.ts';
import { rssUnderLoad } from './rss-load.ts';

const args = process.argv.slice(2);
const values = (name: string) => args.flatMap((a, i) => (a === `--${name}` && args[i + 1] ? [args[i + 1]!] : []));
const option = (name: string, fallback: string) => values(name)[0] ?? fallback;
const rounds = Number(option('rounds', '2'));
const requests = Number(option('requests', '20000'));
const connections = Number(option('connections', '50'));
const nodeArgs = option('node-args', '').split(' ').filter(Boolean);
const repoRoot = path.resolve(import.meta.dirname, '..');
const order = JSON.stringify({ id: 'B-1', customer: 'Bench', items: [{ sku: 'a', qty: 2, price: 60 }, { sku: 'b', qty: 1, price: 3.5 }] });
const probeModule = path.join(import.meta.dirname, 'rss-probe.mjs');
/** The `root` that stands for Node-RED (--node-red) in the alternation. */
const NODE_RED = 'node-red';

interface Probe {
  label: string;
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  spaces: Record<string, { size: number; used: number }>;
}

/** RSS (MB) by mapping: the node binary, malloc's main arena ([heap]), anonymous memory (V8's heap among it). */
function smaps(pid: number): string {
  const by = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) name = header[1] || '[anon]';
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) by.set(name, (by.get(name) ?? 0) + Number(rss[1]));
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([n, kb]) => `${path.basename(n)} ${(kb / 1024).toFixed(0)}`).join(', ');
}

const status = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

async function probe(server: BenchServer, file: string): Promise<Probe[]> {
  const lines = () => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
  const before = lines().length;
  process.kill(server.pid, 'SIGWINCH');
  const deadline = Date.now() + 30_000;
  while (lines().length === before) {
    if (Date.now() > deadline) throw new Error(`the memory probe in ${server.name} did not answer within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return JSON.parse(lines().at(-1)!) as Probe[];
}

const heap = (p: Probe[]) =>
  p.map((x) => `${x.label} heapTotal ${x.heapTotal} used ${x.heapUsed} (old ${x.spaces.old_space?.size}/${x.spaces.old_space?.used}, new ${x.spaces.new_space?.size}) external ${x.external}`).join(' | ');

async function measure(label: string, root: string, dataDir: string, tsx: boolean, extraArgs: string[] = []): Promise<{ start: number; end: number; mean: number }> {
  const probeFile = path.join(dataDir, `probe-${Date.now()}.jsonl`);
  const options = { nodeArgs: ['--expose-gc', ...nodeArgs, ...extraArgs, '--import', probeModule], env: { FLOWCREW_RSS_PROBE_OUT: probeFile } };
  const server = root === NODE_RED ? await startNodeRed(order, options) : await startFlowcrew(order, { root, tsx, ...options });
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const startRss = server.rssMb();
    const startMaps = smaps(server.pid);
    const atStart = await probe(server, probeFile);
    // The readiness check (node-red.ts) was request 1.
    const load = await rssUnderLoad(server, { url: server.url, body: order }, connections, requests - 1, 500);
    const endRss = load.after;
    const endMaps = smaps(server.pid);
    const atEnd = await probe(server, probeFile);
    console.log(
      `${label.padEnd(12)}\n             start ${startRss.toFixed(0)} MB → after ${load.served + 1} requests (${(load.served / load.seconds).toFixed(0)} req/s) ${endRss.toFixed(0)} MB; ` +
        `mean ${load.mean.toFixed(0)}, 2nd half mean ${load.secondHalfMean.toFixed(0)}, max ${load.max.toFixed(0)}, peak ${status(server.pid, 'VmHWM').toFixed(0)} MB\n` +
        `             start: ${heap(atStart)}\n             end:   ${heap(atEnd)}\n             smaps start: ${startMaps}\n             smaps end:   ${endMaps}`,
    );
    return { start: startRss, end: endRss, mean: load.mean };
  } finally {
    await server.stop();
  }
}

const work = await mkdtemp(path.join(tmpdir(), 'flowcrew-rss-'));
try {
  const trees: Array<{ label: string; root: string; tsx: boolean; args?: string[] }> = values('rev').map((rev) => ({ label: rev, root: checkout(rev, work), tsx: false }));
  if (trees.length === 0 || args.includes('--tree')) trees.push({ label: 'tree', root: repoRoot, tsx: false });
  if (args.includes('--tree-tsx')) trees.push({ label: 'tree-tsx', root: repoRoot, tsx: true });
  const first = trees[0]!;
  for (const variant of values('variant')) trees.push({ ...first, label: `${first.label} ${variant}`, args: variant.split(' ').filter(Boolean) });
  if (args.includes('--node-red')) trees.push({ label: 'node-red', root: NODE_RED, tsx: false });
  console.log(`RSS after ${requests} requests, ${rounds} alternating rounds${nodeArgs.length ? `, node ${nodeArgs.join(' ')}` : ''}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  const results = new Map<string, Array<{ start: number; end: number; mean: number }>>();
  for (let round = 0; round < rounds; round++) {
    for (const tree of round % 2 === 0 ? trees : [...trees].reverse()) {
      results.set(tree.label, [...(results.get(tree.label) ?? []), await measure(tree.label, tree.root, work, tree.tsx, tree.args)]);
    }
  }
  const list = (xs: number[]) => xs.map((m) => m.toFixed(0)).join(', ');
  for (const [label, rs] of results) {
    console.log(`${label.padEnd(12)} RSS at start: ${list(rs.map((r) => r.start))} MB; after ${requests} requests: ${list(rs.map((r) => r.end))} MB; mean during the load: ${list(rs.map((r) => r.mean))} MB`);
  }
  const nodeRed = results.get('node-red');
  if (nodeRed) {
    const ratio = (mine: number[], theirs: number[]) => mine.map((m, i) => (m / theirs[i]!).toFixed(2)).join(', ');
    for (const [label, rs] of results) {
      if (label !== 'node-red') console.log(`${label.padEnd(12)} / node-red, per round: after ${requests} requests ${ratio(rs.map((r) => r.end), nodeRed.map((r) => r.end))}x; mean during the load ${ratio(rs.map((r) => r.mean), nodeRed.map((r) => r.mean))}x (target <= 1.5)`);
    }
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
