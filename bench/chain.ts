/** The 10-node chain the per-node benchmarks share (inject → 9 change nodes), and a way to run it to completion. */
import type { Runtime } from '../runtime/src/runtime.ts';

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
