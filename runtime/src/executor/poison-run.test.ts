/**
 * Poison runs, proven with a real runtime process: a node invocation that kills the runtime every time it runs is
 * replayed after each restart only until it has been interrupted FLOWCREW_MAX_INTERRUPTIONS times; then it fails
 * with a clear error (routed to catch nodes) and the runtime stays up. Resuming happens after the server listens.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildRuntime, freePort, waitFor } from '../testing/child-runtime.ts';

/** A user node pack with one node that checks the runtime answers HTTP, notes it, then SIGKILLs the runtime. */
async function installCrashPack(dataDir: string): Promise<void> {
  const dir = path.join(dataDir, 'nodes', 'node_modules', 'flowcrew-test-crash');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'flowcrew-test-crash', version: '1.0.0', type: 'module', flowcrew: { nodes: ['./index.js'] } }));
  await writeFile(
    path.join(dir, 'index.js'),
    `import { appendFileSync } from 'node:fs';
export const nodes = [{
  type: 'test-crash', category: 'function', label: 'crash', inputs: 1, outputs: 1,
  help: 'Kills the runtime (tests only).',
  props: { type: 'object', properties: { port: { type: 'integer' }, log: { type: 'string' } }, required: ['port', 'log'] },
  create(init) {
    return {
      async onInput() {
        // Resumed runs start only once the server listens: this request must be answered.
        const status = await fetch('http://127.0.0.1:' + init.props.port + '/api/v1/health').then((r) => r.status, () => 'refused');
        appendFileSync(init.props.log, init.flowId + ' ' + status + '\\n');
        process.kill(process.pid, 'SIGKILL');
        await new Promise(() => {});
      },
    };
  },
}];
`,
  );
}

describe('poison runs (kill -9 by the run itself)', () => {
  let dataDir: string;
  let runtime: ChildRuntime;
  afterAll(async () => {
    await runtime?.killHard();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('fails an invocation interrupted 3 times instead of replaying it at every start; catch nodes get it', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-poison-'));
    await installCrashPack(dataDir);
    const port = await freePort();
    const log = path.join(dataDir, 'crash.log');
    runtime = new ChildRuntime({ dataDir, port, env: { FLOWCREW_MAX_INTERRUPTIONS: '3' } });
    await runtime.start();

    const crash = { id: 'boom', type: 'test-crash', props: { port, log }, wires: [['after']] };
    const caught = {
      id: 'caught',
      name: 'caught',
      nodes: [
        { id: 'go', type: 'inject', wires: [['boom']] },
        crash,
        { id: 'after', type: 'debug' },
        { id: 'catch', type: 'catch', wires: [['mark']] },
        { id: 'mark', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'caught', tot: 'str' }] } },
      ],
    };
    const uncaught = { id: 'uncaught', name: 'uncaught', nodes: [{ id: 'go', type: 'inject', wires: [['boom']] }, crash, { id: 'after', type: 'debug' }] };
    for (const flow of [caught, uncaught]) {
      expect((await runtime.api('POST', '/api/v1/flows', flow)).status).toBe(201);
      expect((await runtime.api('POST', `/api/v1/flows/${flow.id}/deploy`)).status).toBe(200);
    }
    // Both runs are accepted (202: durable) before the first crash node kills the process.
    const runs: string[] = [];
    for (const flow of ['caught', 'uncaught']) {
      const started = await runtime.api('POST', `/api/v1/flows/${flow}/runs`, { input: { payload: 1 } }).catch(() => null);
      if (started?.status === 202) runs.push(started.body.runId as string);
    }
    await runtime.waitForExit();
    expect(runs.length).toBeGreaterThan(0);

    // Interruption 1 was the first run. Each start resumes and crashes again: interruptions 2 and 3.
    for (let start = 2; start <= 3; start++) {
      runtime.spawn();
      // Generous: each start compiles and boots the CLI first (30-90 s at load 20-33 on 2 cores).
      expect(await runtime.waitForExit(150_000), `start ${start} should have been killed by the resumed run`).toBeNull();
    }

    // The 4th start: the invocation has been interrupted 3 times; it fails without running and the runtime stays up.
    await runtime.start();
    for (const runId of runs) {
      const run = await waitFor(`run ${runId} to finish`, async () => {
        const { body } = await runtime.api('GET', `/api/v1/runs/${runId}`);
        return ['succeeded', 'failed', 'cancelled'].includes(body?.status) ? body : undefined;
      });
      const boom = run.invocations.find((i: any) => i.nodeId === 'boom');
      expect(boom).toMatchObject({ status: 'failed', error: expect.stringMatching(/^interrupted 3 times .*not retried again: it may crash the runtime$/), interruptions: 3 });
      if (run.flowId === 'caught') {
        // Handled by the catch node: the run completes through it.
        expect(run.status).toBe('succeeded');
        const mark = run.invocations.find((i: any) => i.nodeId === 'mark');
        expect(mark.outputs[0].msg).toMatchObject({ payload: 'caught', error: { message: boom.error, source: { id: 'boom' } } });
      } else {
        expect(run.status).toBe('failed');
        expect(run.error).toMatch(/^node "boom" failed: interrupted 3 times/);
      }
      expect(run.invocations.some((i: any) => i.nodeId === 'after')).toBe(false);
    }
    expect(runtime.running).toBe(true);
    expect((await runtime.api('GET', '/api/v1/health')).status).toBe(200);

    // Every replay ran after the server was listening (the node's own request to /health was answered).
    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const line of lines) expect(line).toMatch(/^(un)?caught \d{3}$/);
  }, 600_000); // four runtime starts: each took 30-90 s at load 20-33 on 2 cores

  it('a clean stop (SIGTERM) does not count as an interruption', async () => {
    const cleanDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-poison-clean-'));
    const port = await freePort();
    const child = new ChildRuntime({ dataDir: cleanDir, port, env: { FLOWCREW_MAX_INTERRUPTIONS: '1' } });
    try {
      await child.start();
      const flow = {
        id: 'slow',
        name: 'slow',
        nodes: [
          { id: 'go', type: 'inject', wires: [['wait']] },
          { id: 'wait', type: 'delay', props: { pauseType: 'delay', timeout: 800, timeoutUnits: 'milliseconds' }, wires: [['done']] },
          { id: 'done', type: 'debug' },
        ],
      };
      await child.api('POST', '/api/v1/flows', flow);
      await child.api('POST', '/api/v1/flows/slow/deploy');
      const { body } = await child.api('POST', '/api/v1/flows/slow/runs', { input: { payload: 1 } });
      await waitFor('the delay to start', async () => {
        const run = (await child.api('GET', `/api/v1/runs/${body.runId}`)).body;
        return run.invocations.some((i: any) => i.nodeId === 'wait' && i.status === 'pending') ? true : undefined;
      });
      // Even with FLOWCREW_MAX_INTERRUPTIONS=1, two clean restarts do not fail the delayed invocation.
      for (let i = 0; i < 2; i++) {
        expect(await child.terminate()).toBe(0);
        await child.start();
        // Resumed (in memory again) before the next stop.
        await waitFor('the run to be resumed', async () => ((await child.api('GET', '/api/v1/health')).body.activeRuns > 0 ? true : undefined));
      }
      const run = await waitFor('the run to finish', async () => {
        const r = (await child.api('GET', `/api/v1/runs/${body.runId}`)).body;
        return ['succeeded', 'failed'].includes(r.status) ? r : undefined;
      });
      expect(run.status).toBe('succeeded');
    } finally {
      await child.killHard();
      await rm(cleanDir, { recursive: true, force: true });
    }
  }, 300_000); // two runtime starts: each took 30-60 s at load 20-33 on 2 cores
});
