/**
 * What one library sub-flow call costs the runs that come after it: the 10-node chain (bench/chain.ts) measured in a
 * process where a library sub-flow was called once before (variant `called`) and in one where none was (`plain`).
 * Session 10's caller variables used an AsyncLocalStorage scope for called runs: Node 20 then keeps its async hook
 * (a promise hook on every promise) on for the whole process, for ever.
 *
 *   node --import tsx bench/subflow-call.ts [--rounds 3] [--messages 20000] [--rev <git rev>] [--at <git rev>]
 * Without --rev: `plain` vs `called` alternating processes, on this tree or on revision --at. With --rev: `called` on
 * <rev> vs `called` on this tree (or on --at), alternating (bench/checkout.ts extracts the revisions: a shared
 * checkout's uncommitted edits of others stay out of the comparison with --at).
 *   node --import tsx bench/subflow-call.ts --toggle [--rounds 6] [--messages 20000] [--at <git rev>] [--after-call]
 * One process, blocks with Node's async hook on (an AsyncLocalStorage in use) and off, alternating; with
 * --after-call, blocks before and after a library sub-flow call (on a tree where the call leaves the hook on, every
 * block after the first call has it on).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Runtime } from '../runtime/src/runtime.ts';
import { loadChain, withChain } from './chain.ts';
import { checkout } from './checkout.ts';

type Variant = 'plain' | 'called';

/** Publish a small library sub-flow (a change reading a variable) and call it once from a flow; resolves when that run finished. */
async function callSubflowOnce(runtime: Runtime): Promise<void> {
  const library = runtime.subflows;
  if (!library) throw new Error('no sub-flow library (it needs the SQL storage)');
  const definition = {
    id: 'bench-stamp',
    version: 1,
    name: 'stamp',
    nodes: [
      { id: 'in', type: 'subflow-in', wires: [['read']] },
      { id: 'read', type: 'change', props: { rules: [{ t: 'set', p: 'payload.site', pt: 'msg', to: 'SITE', tot: 'env' }] }, wires: [['out']] },
      { id: 'out', type: 'subflow-out' },
    ],
  };
  await library.store.insert(definition, 'default', 'bench');
  await library.added({ definition, projectId: 'default', createdAt: Date.now(), createdBy: 'bench' });
  await runtime.createFlow({ id: 'caller', name: 'caller', version: 0, env: { SITE: 'plant-7' }, nodes: [{ id: 'go', type: 'inject', wires: [['use']] }, { id: 'use', type: 'subflow:bench-stamp', props: { version: 1 } }] });
  await runtime.deployFlow('caller');
  await runCallerOnce(runtime);
}

async function runCallerOnce(runtime: Runtime): Promise<void> {
  const { runId } = await runtime.executor.runNow('caller', { payload: {} }, { nodeId: 'go' });
  for (;;) {
    const run = await runtime.storage.getRun(runId);
    if (run && ['succeeded', 'failed', 'cancelled'].includes(run.status)) {
      if (run.status !== 'succeeded') throw new Error(`the calling run ${run.status}`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function measure(root: string, variant: Variant, messages: number, inFlight = 256): Promise<{ cpuUs: number; wallUs: number }> {
  const prepare = variant === 'called' ? callSubflowOnce : undefined;
  return withChain(root, { retention: 'all', where: 'disk', prepare }, async (runOne) => {
    const { cpuUs, wallUs } = await loadChain(runOne, messages, inFlight);
    return { cpuUs, wallUs };
  });
}

/**
 * The async hook's cost on the chain in ONE process (no process-to-process noise): blocks of runs with an
 * AsyncLocalStorage enabled (as session 10's caller scope stayed after one call) and disabled, alternating.
 */
async function toggle(root: string, messages: number, rounds: number, afterCall: boolean, inFlight = 256): Promise<void> {
  const { AsyncLocalStorage } = await import('node:async_hooks');
  await withChain(root, { retention: 'all', where: 'disk' }, async (runOne, runtime) => {
    const block = async () => (await loadChain(runOne, messages, inFlight)).cpuUs;
    const ratios: number[] = [];
    const what = afterCall ? 'before vs after a library sub-flow call (one more each round)' : 'async hook off vs on (an AsyncLocalStorage in use)';
    console.log(`chain (sqlite on disk, history all) in one process (${root}), ${messages} runs x 10 nodes per block: ${what}, alternating`);
    let published = false;
    for (let round = 1; round <= rounds; round++) {
      const off = await block();
      const als = new AsyncLocalStorage<number>();
      if (afterCall) {
        if (!published) await callSubflowOnce(runtime);
        else await runCallerOnce(runtime);
        published = true;
      } else als.run(1, () => undefined); // enabled from now on, as a storage once run stays until disable()
      const on = await block();
      als.disable();
      ratios.push(on / off);
      console.log(`round ${round}: off ${off.toFixed(1)} µs CPU/node | on ${on.toFixed(1)} µs CPU/node | on/off ${(on / off).toFixed(2)}x  load ${loadavg()[0]!.toFixed(1)}`);
    }
    ratios.sort((x, y) => x - y);
    console.log(`median on/off: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}x CPU per node (${ratios.map((r) => r.toFixed(2)).join(' ')})`);
  });
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
  };
  const messages = Number(option('messages', '20000'));
  const measureRoot = option('measure', '');
  if (args.includes('--toggle')) {
    const at = option('at', '');
    const under = at ? await mkdtemp(path.join(tmpdir(), 'flowcrew-subflow-call-rev-')) : '';
    await toggle(at ? checkout(at, under) : path.resolve(import.meta.dirname, '..'), messages, Number(option('rounds', '6')), args.includes('--after-call'));
    if (under) await rm(under, { recursive: true, force: true });
  } else if (measureRoot) {
    console.log(JSON.stringify(await measure(measureRoot, option('variant', 'plain') as Variant, messages)));
  } else {
    const rev = option('rev', '');
    const rounds = Number(option('rounds', '3'));
    const at = option('at', '');
    const here = path.resolve(import.meta.dirname, '..');
    const under = await mkdtemp(path.join(tmpdir(), 'flowcrew-subflow-call-rev-'));
    const tree = at ? checkout(at, under) : here;
    const old = rev ? checkout(rev, under) : tree;
    const run = (root: string, variant: Variant) => {
      const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(here, 'bench/subflow-call.ts'), '--measure', root, '--variant', variant, '--messages', String(messages)], { cwd: root }).toString();
      return JSON.parse(out.trim().split('\n').pop()!) as { cpuUs: number; wallUs: number };
    };
    const treeName = at || 'tree';
    const [aName, bName] = rev ? [`${rev} called`, `${treeName} called`] : [`${treeName} plain`, `${treeName} called`];
    console.log(`chain (sqlite on disk, history all), ${messages} runs x 10 nodes per process: ${aName} vs ${bName}, alternating`);
    const ratios: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const a = rev ? run(old, 'called') : run(tree, 'plain');
      const b = run(tree, 'called');
      ratios.push(b.cpuUs / a.cpuUs);
      console.log(`round ${round}: ${aName} ${a.cpuUs.toFixed(1)} µs CPU/node (${a.wallUs.toFixed(1)} wall) | ${bName} ${b.cpuUs.toFixed(1)} µs CPU/node (${b.wallUs.toFixed(1)} wall) | ${(b.cpuUs / a.cpuUs).toFixed(2)}x  load ${loadavg()[0]!.toFixed(1)}`);
    }
    ratios.sort((x, y) => x - y);
    console.log(`median ${bName}/${aName}: ${ratios[Math.floor(ratios.length / 2)]!.toFixed(2)}x CPU per node`);
    await rm(under, { recursive: true, force: true });
  }
}
