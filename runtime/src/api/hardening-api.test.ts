/**
 * API robustness (issue 7), through a real runtime: deep bodies are 4xx with a pointer, creates and imports are
 * atomic, large flows are linear and leave /health responsive, credentials are never overwritten by a create,
 * messages over the limits fail their invocation, and run history has a default retention.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { makeRun } from '../storage/fixtures.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';

/** `{"a": {"a": ... 1}}`, `depth` objects deep, built as text so no recursion is needed anywhere in the test. */
const nestedObjectText = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
const deepPointer = (depth: number) => '/a'.repeat(depth);

function webhookFlow(id: string, url: string, extra: Record<string, unknown>[] = []) {
  return { id, name: id, nodes: [{ id: 'hook', type: 'webhook', props: { method: 'POST', url }, wires: [['out']] }, { id: 'out', type: 'debug' }, ...extra] };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

describe('bodies nested too deep', () => {
  const flowWithDeepProps = (depth: number) => `{"id":"deep","name":"deep","nodes":[{"id":"n","type":"debug","props":{"x":${nestedObjectText(depth)}}}]}`;

  it.each(['/api/v1/flows', '/api/v1/flows/validate', '/api/v1/flows/import'])('POST %s with props nested 5,000 deep: 400 with a pointer, no 500', async (url) => {
    const { status, body, headers } = await server.api('POST', url, flowWithDeepProps(5000));
    expect(status).toBe(400);
    expect(headers.get('content-type')).toMatch(/problem\+json/);
    expect(body.detail).toMatch(/nested more than 128 levels deep/);
    // The document, nodes, node and props take 4 levels; x is the 5th, each /a one more: the 129th is too deep.
    expect(body.errors[0].pointer).toBe(`/nodes/0/props/x${deepPointer(129 - 5)}`);
    expect((await server.api('GET', '/api/v1/flows/deep')).status).toBe(404);
  });

  it('POST /credentials with fields nested 5,000 deep: 400 with a pointer', async () => {
    const { status, body } = await server.api('POST', '/api/v1/credentials', `{"name":"c","type":"t","fields":${nestedObjectText(5000)}}`);
    expect(status).toBe(400);
    expect(body.errors[0].pointer).toMatch(/^\/fields(\/a)+$/);
  });

  it('a webhook body of 300,000 nested arrays: 400 with a pointer, and the runtime keeps answering', async () => {
    await server.api('POST', '/api/v1/flows', webhookFlow('deep-hook', '/deep'));
    expect((await server.api('POST', '/api/v1/flows/deep-hook/deploy')).status).toBe(200);
    const res = await fetch(`${server.url}/webhook/deep`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(300_000) + ']'.repeat(300_000) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { errors: Array<{ pointer: string }> };
    expect(body.errors[0]!.pointer).toBe(`/${Array.from({ length: 128 }, () => '0').join('/')}`);
    expect((await server.api('GET', '/api/v1/health')).status).toBe(200);
    expect(await server.api('GET', '/api/v1/runs?flowId=deep-hook')).toMatchObject({ body: [] });
  });

  it('props nested within the limit are accepted', async () => {
    const { status, body } = await server.api('POST', '/api/v1/flows/validate', flowWithDeepProps(100));
    expect(status).toBe(200);
    expect(body.valid).toBe(true);
  });

  it('the limit is FLOWCREW_MAX_DEPTH', async () => {
    expect(loadConfig({ FLOWCREW_MAX_DEPTH: '16' }).maxDepth).toBe(16);
    expect(() => loadConfig({ FLOWCREW_MAX_DEPTH: '0' })).toThrow(/FLOWCREW_MAX_DEPTH must be at least 1/);
    const strict = await startTestServer({ maxDepth: 8 });
    try {
      expect((await strict.api('POST', '/api/v1/flows/validate', flowWithDeepProps(4))).status).toBe(200);
      const { status, body } = await strict.api('POST', '/api/v1/flows/validate', flowWithDeepProps(5));
      expect(status).toBe(400);
      expect(body.errors[0].pointer).toBe('/nodes/0/props/x/a/a/a/a');
    } finally {
      await strict.stop();
    }
  });
});

describe('creating a flow is atomic', () => {
  it('20 concurrent POST /flows with one new id: one 201, nineteen 409', async () => {
    const flow = (i: number) => ({ id: 'racy', name: `writer ${i}`, nodes: [{ id: 'a', type: 'inject' }] });
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => server.api('POST', '/api/v1/flows', flow(i))));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([201, ...Array<number>(19).fill(409)]);
    const winner = answers.find((a) => a.status === 201)!.body;
    const stored = (await server.api('GET', '/api/v1/flows/racy')).body;
    expect(stored).toMatchObject({ version: 1, name: winner.name });
    for (const lost of answers.filter((a) => a.status === 409)) expect(lost.body.detail).toMatch(/flow "racy" already exists/);
  });
});

describe('import with deploy: all or nothing', () => {
  const ok = (id: string, url: string) => webhookFlow(id, url);
  // Valid, but cannot deploy: its webhook path is taken by a flow deployed earlier in the same import.
  const broken = (url: string) => webhookFlow('imp-broken', url);

  it('[ok, broken, ok]: 422 naming the flow and node; nothing stored, nothing deployed', async () => {
    const { status, body } = await server.api('POST', '/api/v1/flows/import?deploy=true', [ok('imp-a', '/imp-a'), broken('/imp-a'), ok('imp-c', '/imp-c')]);
    expect(status).toBe(422);
    expect(body.detail).toMatch(/^flow "imp-broken" could not be deployed: .*\/webhook\/imp-a is already registered.*; nothing of the import was stored or deployed$/);
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/1/nodes/0', nodeId: 'hook' })]);
    for (const id of ['imp-a', 'imp-broken', 'imp-c']) expect((await server.api('GET', `/api/v1/flows/${id}`)).status).toBe(404);
    for (const url of ['/imp-a', '/imp-c']) expect((await fetch(`${server.url}/webhook${url}`, { method: 'POST' })).status).toBe(404);
  });

  it('a replaced flow keeps running its previous revision when the import fails', async () => {
    await server.api('POST', '/api/v1/flows', ok('imp-keep', '/keep-v1'));
    await server.api('POST', '/api/v1/flows/imp-keep/deploy');
    const { status } = await server.api('POST', '/api/v1/flows/import?deploy=true&replace=true', [ok('imp-keep', '/keep-v2'), broken('/keep-v2')]);
    expect(status).toBe(422);
    expect((await server.api('GET', '/api/v1/flows/imp-keep')).body).toMatchObject({ version: 1, deployed: true, deployedVersion: 1 });
    expect((await fetch(`${server.url}/webhook/keep-v1`, { method: 'POST' })).status).toBe(202);
    expect((await fetch(`${server.url}/webhook/keep-v2`, { method: 'POST' })).status).toBe(404);
  });

  it('all deployable: every flow stored and deployed', async () => {
    const { status, body } = await server.api('POST', '/api/v1/flows/import?deploy=true', [ok('imp-x', '/imp-x'), ok('imp-y', '/imp-y')]);
    expect(status).toBe(201);
    expect(body.flows).toEqual([
      { id: 'imp-x', name: 'imp-x', version: 1, deployed: true },
      { id: 'imp-y', name: 'imp-y', version: 1, deployed: true },
    ]);
    expect((await server.api('GET', '/api/v1/flows/imp-y')).body).toMatchObject({ deployed: true, deployedVersion: 1 });
    expect((await fetch(`${server.url}/webhook/imp-y`, { method: 'POST' })).status).toBe(202);
  });

  it('the same id twice in one import: 422 with a pointer', async () => {
    const { status, body } = await server.api('POST', '/api/v1/flows/import', [ok('twice', '/t1'), ok('twice', '/t2')]);
    expect(status).toBe(422);
    expect(body.errors).toEqual([expect.objectContaining({ pointer: '/1/id', message: expect.stringMatching(/appears twice/) })]);
    expect((await server.api('GET', '/api/v1/flows/twice')).status).toBe(404);
  });
});

describe('a node wired to 9,999 debug nodes', () => {
  const ids = Array.from({ length: 9_999 }, (_, i) => `d${i}`);
  const large = { id: 'large', name: 'large', nodes: [{ id: 'start', type: 'inject', wires: [ids] }, ...ids.map((id) => ({ id, type: 'debug' }))] };

  /** Runs `call` while polling /health; returns the call's answer and the slowest /health answer meanwhile. */
  async function whileHealthPolled(call: () => Promise<{ status: number }>) {
    let slowest = 0;
    let done = false;
    const poll = (async () => {
      while (!done) {
        const t = performance.now();
        await server.api('GET', '/api/v1/health');
        slowest = Math.max(slowest, performance.now() - t);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const started = performance.now();
    const answer = await call();
    const ms = performance.now() - started;
    done = true;
    await poll;
    return { status: answer.status, ms, slowest };
  }

  // Before: validate 26.6 s, create 24.5 s, deploy 20.8 s, /health blocked throughout. Figures: bench/large-flow.ts.
  it('validates, creates and deploys in well under the old 20 s each while /health keeps answering', async () => {
    for (const [call, expected] of [
      [() => server.api('POST', '/api/v1/flows/validate', large), 200],
      [() => server.api('POST', '/api/v1/flows', large), 201],
      [() => server.api('POST', '/api/v1/flows/large/deploy'), 200],
    ] as const) {
      const { status, ms, slowest } = await whileHealthPolled(call);
      expect(status).toBe(expected);
      expect(ms).toBeLessThan(10_000);
      expect(slowest).toBeLessThan(2_000);
    }
    const run = await server.api('POST', '/api/v1/flows/large/runs', { input: { payload: 1 } });
    expect((await server.waitRun(run.body.runId, 60_000)).status).toBe('succeeded');
  }, 120_000);
});

describe('credentials', () => {
  it("POST /credentials can never overwrite another credential: a chosen id is refused, the vault refuses a taken id (409)", async () => {
    const first = await server.api('POST', '/api/v1/credentials', { name: 'mine', type: 'http-basic', fields: { user: 'a', password: 'b' } });
    expect(first.status).toBe(201);
    // Naming the id of an existing credential in a create is not accepted at all (updates go through PUT /credentials/{id}).
    const hijack = await server.api('POST', '/api/v1/credentials', { id: first.body.id, name: 'theirs', type: 'http-basic', fields: { user: 'x' } });
    expect(hijack.status).toBeGreaterThanOrEqual(400);
    expect(hijack.status).toBeLessThan(500);
    // Below the API, the vault's create is insert-only: a taken id is a 409, never an overwrite.
    await expect(server.runtime.vault.save({ id: first.body.id, name: 'theirs', type: 'http-basic', fields: { user: 'x' } })).rejects.toMatchObject({
      status: 409,
      message: expect.stringMatching(/already exists/),
    });
    const listed = (await server.api('GET', '/api/v1/credentials')).body.find((c: { id: string }) => c.id === first.body.id);
    expect(listed).toMatchObject({ name: 'mine', fields: ['user', 'password'] });
  });
});

describe('message limits in the executor', () => {
  let small: TestServer;
  beforeAll(async () => {
    small = await startTestServer({ maxMessageBytes: 2048 });
  }, 30_000);
  afterAll(async () => {
    await small?.stop();
  });

  it("a node's output over FLOWCREW_MAX_MESSAGE_BYTES fails that invocation with the reason; catch nodes get it", async () => {
    const flow = {
      id: 'grow',
      name: 'grow',
      nodes: [
        { id: 'go', type: 'inject', wires: [['double']] },
        { id: 'double', type: 'function', props: { func: 'return { payload: msg.payload + msg.payload };' }, wires: [['after']] },
        { id: 'after', type: 'debug' },
        { id: 'catch', type: 'catch', props: { scope: ['double'] }, wires: [['seen']] },
        { id: 'seen', type: 'debug' },
      ],
    };
    expect((await small.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await small.api('POST', '/api/v1/flows/grow/deploy')).status).toBe(200);
    const { body } = await small.api('POST', '/api/v1/flows/grow/runs', { input: { payload: 'x'.repeat(1200) } });
    const run = await small.waitRun(body.runId);
    const double = run.invocations.find((i: any) => i.nodeId === 'double');
    expect(double).toMatchObject({ status: 'failed', outputs: [], error: expect.stringMatching(/^its output cannot be passed on: it is 2\.\d KB of JSON, over the 2\.0 KB limit \(FLOWCREW_MAX_MESSAGE_BYTES\)$/) });
    expect(run.invocations.some((i: any) => i.nodeId === 'after')).toBe(false);
    expect(run.invocations.find((i: any) => i.nodeId === 'seen').input.error.message).toBe(double.error);
    // A run whose trigger message is already over the limit is refused with the reason, not accepted and stuck.
    const refused = await small.api('POST', '/api/v1/flows/grow/runs', { input: { payload: 'x'.repeat(3000) } });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toMatch(/over the 2\.0 KB limit/);
  });

  it('when even the message for catch nodes is over the limit (the node grew its input in place), the run fails with the reason', async () => {
    const flow = {
      id: 'grow-in-place',
      name: 'grow in place',
      nodes: [
        { id: 'go', type: 'inject', wires: [['double']] },
        // payload.copy = msg.payload on the message itself: the input the catch node would get is too large as well.
        { id: 'double', type: 'change', props: { rules: [{ t: 'set', p: 'copy', pt: 'msg', to: 'payload', tot: 'msg' }] }, wires: [['after']] },
        { id: 'after', type: 'debug' },
        { id: 'catch', type: 'catch', wires: [['seen']] },
        { id: 'seen', type: 'debug' },
      ],
    };
    await small.api('POST', '/api/v1/flows', flow);
    await small.api('POST', '/api/v1/flows/grow-in-place/deploy');
    const { body } = await small.api('POST', '/api/v1/flows/grow-in-place/runs', { input: { payload: 'x'.repeat(1200) } });
    const run = await small.waitRun(body.runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^node "double" failed: its output cannot be passed on: .* over the 2\.0 KB limit/);
    expect(run.invocations.map((i: any) => i.nodeId)).toEqual(['go', 'double']);
  });

  it('a node output nested 5,000 deep, fanned out to two nodes, fails that invocation instead of crashing the dispatch', async () => {
    // A node type of our own, so the depth reaches the executor whatever the core nodes limit themselves.
    server.runtime.registry.register(
      [
        {
          type: 'test-deep-output',
          category: 'function',
          label: 'deep output',
          help: 'Outputs payload nested `depth` arrays deep (tests only).',
          inputs: 1,
          outputs: 1,
          props: { type: 'object', properties: { depth: { type: 'integer' } } },
          create: (init: { props: { depth?: number } }) => ({
            onInput() {
              let payload: unknown = 'leaf';
              for (let i = 0; i < (init.props.depth ?? 5000); i++) payload = [payload];
              return { payload };
            },
          }),
        } as never,
      ],
      'hardening-test',
    );
    const flow = {
      id: 'deep-out',
      name: 'deep out',
      nodes: [
        { id: 'go', type: 'inject', wires: [['deep']] },
        { id: 'deep', type: 'test-deep-output', props: { depth: 5000 }, wires: [['a', 'b']] },
        { id: 'a', type: 'debug' },
        { id: 'b', type: 'debug' },
      ],
    };
    expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/deep-out/deploy')).status).toBe(200);
    for (const depth of [200, 5000]) {
      await server.api('PUT', '/api/v1/flows/deep-out', { ...flow, nodes: flow.nodes.map((n) => (n.id === 'deep' ? { ...n, props: { depth } } : n)) });
      await server.api('POST', '/api/v1/flows/deep-out/deploy');
      const { body } = await server.api('POST', '/api/v1/flows/deep-out/runs', { input: { payload: 1 } });
      const run = await server.waitRun(body.runId);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/^node "deep" failed: its output cannot be passed on: it is nested more than 128 levels deep \(FLOWCREW_MAX_DEPTH\)$/);
      expect(run.invocations.map((i: any) => i.nodeId)).toEqual(['go', 'deep']);
    }
  });

  it('JSON parsed 5,000 deep by a json node fails the run with the reason instead of leaving it running', async () => {
    // Wired to two nodes: the output is copied for the second one before it is stored.
    const flow = {
      id: 'parse',
      name: 'parse',
      nodes: [{ id: 'go', type: 'inject', wires: [['parse']] }, { id: 'parse', type: 'json', props: { action: 'obj' }, wires: [['a', 'b']] }, { id: 'a', type: 'debug' }, { id: 'b', type: 'debug' }],
    };
    await server.api('POST', '/api/v1/flows', flow);
    await server.api('POST', '/api/v1/flows/parse/deploy');
    for (const depth of [200, 5000]) {
      const { body } = await server.api('POST', '/api/v1/flows/parse/runs', { input: { payload: '['.repeat(depth) + ']'.repeat(depth) } });
      const run = await server.waitRun(body.runId);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/^node "parse" failed: .*(nested|deep)/i);
    }
    expect((await server.api('GET', '/api/v1/health')).status).toBe(200);
  });
});

describe('run history retention', () => {
  it('ships a default max age of 30 days; 0 keeps runs for ever', () => {
    expect(loadConfig({}).retention.maxAgeMs).toBe(30 * 86_400_000);
    expect(loadConfig({ FLOWCREW_RETENTION_MAX_AGE_DAYS: '0' }).retention.maxAgeMs).toBe(0);
  });

  it('a finished run older than 30 days is pruned at start by default', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-retention-'));
    const old = makeRun({ flowId: 'retention', status: 'succeeded', createdAt: Date.now() - 31 * 86_400_000, finishedAt: Date.now() - 31 * 86_400_000 });
    const recent = makeRun({ flowId: 'retention', status: 'succeeded', createdAt: Date.now() - 86_400_000, finishedAt: Date.now() - 86_400_000 });
    const again = await startTestServer({ dataDir });
    try {
      await again.runtime.storage.acceptRun(old, []);
      await again.runtime.storage.acceptRun(recent, []);
    } finally {
      await again.stop();
    }
    const restarted = await startTestServer({ dataDir });
    try {
      await expect.poll(async () => (await restarted.api('GET', '/api/v1/runs?flowId=retention')).body.map((r: { id: string }) => r.id)).toEqual([recent.id]);
    } finally {
      await restarted.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
