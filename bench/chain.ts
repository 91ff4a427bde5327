/**
 * The 10-node chain the per-node benchmarks share (inject → 9 change nodes), and a way to run it to completion.
 *
 * Run directly, it compares the per-node overhead of this tree with a revision, in alternating processes of one run
 * (CPU time per node: the machine is shared):
 *   node --import tsx bench/chain.ts --rev <git rev> [--rounds 3] [--messages 20000] [--history all|none] [--where disk|memory] [--tree <dir>]
 * (the revision is extracted with bench/checkout.ts; each process measures one tree: `--measure <root>`; `--tree`
 * measures another checkout instead of this one, e.g. the old revision with only one's own commits applied, so other
 * engineers' work in a shared tree does not enter the comparison).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Runtime } from '../runtime/src/runtime.ts';
import type { RetentionMode } from '../runtime/src/storage/types.ts';
import { checkout } from './checkout.ts';

/** Deploy the chain flow on `runtime`; returns a function that runs it once and resolves when the run finished. */
export async function deployChain(runtime: Runtime): Promise<() => Promise<void>> {
  const nodes: unknown[] = [{ id: 'n0', type: 'inject', wires: [['n1']] }];
  for (let i = 1; i < 10; i++) {
    nodes.push({ id: `n${i}`, type: 'change', props: { rules: [{ t: 'set', p: `payload.step${i}`, pt: 'msg', to: String(i), tot: 'num' }] }, wires: i < 9 ? [[`n${i + 1}`]] : [] });
  }
  await runtime.createFlow({ id: 'chain', name: 'chain', version: 0, nodes });
  await runtime.deployFlow('chain');
  // A run can finish before runNow() resolves (its acceptance and its last step may share one commit).
  const waiting = new Map<string, () => void>();
  const done = new Set<string>();
  runtime.events.add({
    runFinished: (run) => {
      const resolve = waiting.get(run.id);
      if (resolve) {
        waiting.delete(run.id);
        resolve();
      } else done.add(run.id);
    },
  });
  return async () => {
    const { runId } = await runtime.executor.runNow('chain', { payload: {} });
    if (done.delete(runId)) return;
    await new Promise<void>((resolve) => waiting.set(runId, resolve));
  };
}

/** What one measurement of the chain gives. */
export interface ChainFigures {
  /** µs of process CPU per node (the machine is shared: wall time is mostly waiting for a core). */
  cpuUs: number;
  wallUs: number;
  seconds: number;
  /** Heap growth over the measured runs (MB). */
  heapMb: number;
}

/** `messages` runs of a deployed chain, at most `inFlight` at once: process CPU and wall time per node (10 nodes a run). */
export async function loadChain(runOne: () => Promise<void>, messages: number, inFlight = 256): Promise<Omit<ChainFigures, 'heapMb'>> {
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  let started = 0;
  const worker = async () => {
    while (started < messages) {
      started++;
      await runOne();
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuBefore);
  return { cpuUs: (cpu.user + cpu.system) / (messages * 10), wallUs: elapsedNs / 1000 / (messages * 10), seconds: elapsedNs / 1e9 };
}

/**
 * An embedded runtime of the tree under `root` (SQLite on disk in a temporary directory, or in memory) with the chain
 * deployed, `prepare`d, and warmed up (500 runs: JIT and caches); `use` gets the runtime and the chain's run-once function.
 */
export async function withChain<T>(root: string, options: { retention: RetentionMode; where: 'disk' | 'memory'; prepare?: (runtime: Runtime) => Promise<void> }, use: (runOne: () => Promise<void>, runtime: Runtime) => Promise<T>): Promise<T> {
  const { loadConfig } = (await import(path.join(root, 'runtime/src/config.ts'))) as typeof import('../runtime/src/config.ts');
  const { Runtime } = (await import(path.join(root, 'runtime/src/runtime.ts'))) as typeof import('../runtime/src/runtime.ts');
  const dataDir = options.where === 'memory' ? ':memory:' : await mkdtemp(path.join(tmpdir(), 'flowcrew-chain-'));
  const runtime = await Runtime.create(loadConfig({ ...process.env, DATABASE_URL: '' }, { dataDir, flowsDir: null, logLevel: 'error', retention: { mode: options.retention, maxAgeMs: 0 } }), { loadExamples: false });
  try {
    const runOne = await deployChain(runtime);
    await options.prepare?.(runtime);
    await Promise.all(Array.from({ length: 500 }, runOne));
    return await use(runOne, runtime);
  } finally {
    await runtime.close();
    if (options.where === 'disk') await rm(dataDir, { recursive: true, force: true });
  }
}

/** Per-node overhead: `messages` runs of the chain on the runtime under `root`, at most `inFlight` at once, after a warm-up. */
export async function measureChain(root: string, retention: RetentionMode, where: 'disk' | 'memory', messages: number, inFlight = 256): Promise<ChainFigures> {
  return withChain(root, { retention, where }, async (runOne) => {
    const heapBefore = process.memoryUsage().heapUsed;
    const load = await loadChain(runOne, messages, inFlight);
    return { ...load, heapMb: (process.memoryUsage().heapUsed - heapBefore) / 1e6 };
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
  };
  const retention = option('history', 'all') as RetentionMode;
  const where = option('where', 'disk') as 'disk' | 'memory';
  const messages = Number(option('messages', '20000'));
  const measureRoot = option('measure', '');
  if (measureRoot) {
    console.log(JSON.stringify(await measureChain(measureRoot, retention, where, messages)));
  } else {
    const rev = option('rev', 'HEAD');
    const rounds = Number(option('rounds', '3'));
    const here = path.resolve(import.meta.dirname, '..');
    const tree = path.resolve(option('tree', here));
    const old = checkout(rev, await mkdtemp(path.join(tmpdir(), 'flowcrew-chain-rev-')));
    const measure = (root: string) => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'bench/chain.ts'), '--measure', root, '--history', retention, '--where', where, '--messages', String(messages)], { cwd: root }).toString();
      return JSON.parse(out.trim().split('\n').pop()!) as { cpuUs: number; wallUs: number };
    };
    const ratios: number[] = [];
    console.log(`chain sqlite=${where} history=${retention}, ${messages} runs x 10 nodes per process: ${rev} (${old}) vs ${tree === here ? 'this tree' : tree}, alternating`);
    for (let round = 1; round <= rounds; round++) {
      const before = measure(old);
      const after = measure(tree);
      ratios.push(after.cpuUs / before.cpuUs);
      console.log(
        `round ${round}: ${rev} ${before.cpuUs.toFixed(1)} µs CPU/node (${before.wallUs.toFixed(1)} wall) | tree ${after.cpuUs.toFixed(1)} µs CPU/node (${after.wallUs.toFixed(1)} wall) | tree/${rev} ${(after.cpuUs / before.cpuUs).toFixed(2)}x  load ${loadavg()[0]!.toFixed(1)}`,
      );
    }
    ratios.sort((a, b) => a - b);
    console.log(`median tree/${rev}: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}x CPU per node`);
    await rm(path.dirname(old), { recursive: true, force: true });
  }
}
