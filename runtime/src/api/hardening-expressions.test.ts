/**
 * Issue 7, "host-side evaluation stalls or kills every flow": each attack through a real runtime. The hostile
 * message fails its own run with a clear reason (or, where a linear-time engine makes the attack harmless, simply
 * answers), while a normal webhook flow is called over and over meanwhile: its p99 latency and /health must hold.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({ logLevel: 'error' });
  await deploy({
    id: 'normal',
    name: 'normal',
    version: 0,
    settings: { concurrency: 0 },
    nodes: [
      { id: 'in', type: 'webhook', props: { method: 'POST', url: '/normal' }, wires: [['total']] },
      { id: 'total', type: 'jsonata', props: { expression: "{ 'id': payload.id, 'total': $sum(payload.items.(qty * price)) }" }, wires: [['route']] },
      { id: 'route', type: 'switch', props: { property: 'payload.total', rules: [{ t: 'gte', v: '100', vt: 'num' }, { t: 'else' }], checkall: 'false' }, wires: [['big'], ['small']] },
      { id: 'big', type: 'change', props: { rules: [{ t: 'set', p: 'payload.status', to: 'review' }] }, wires: [['out']] },
      { id: 'small', type: 'change', props: { rules: [{ t: 'set', p: 'payload.status', to: 'approved' }] }, wires: [['out']] },
      { id: 'out', type: 'webhook-response', props: { statusCode: 200 }, wires: [] },
    ],
  });
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

async function deploy(doc: { id: string; [key: string]: unknown }): Promise<void> {
  const created = await server.api('POST', '/api/v1/flows', doc);
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const deployed = await server.api('POST', `/api/v1/flows/${doc.id}/deploy`);
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
}

/** A flow of one node under attack, started by hand with the hostile payload. */
async function deployVictim(id: string, node: { type: string; props: Record<string, unknown> }): Promise<void> {
  await deploy({ id, name: id, version: 0, settings: { concurrency: 0 }, nodes: [{ id: 'start', type: 'inject', wires: [['victim']] }, { id: 'victim', ...node, wires: [] }] });
}

async function startRun(flowId: string, payload: unknown): Promise<string> {
  const { status, body } = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload } });
  expect(status, JSON.stringify(body)).toBe(202);
  return body.runId;
}

const victimOf = (run: { invocations: Array<{ nodeId: string; error?: string }> }) => run.invocations.find((i) => i.nodeId === 'victim');

const p99 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * 0.99))]!;

/**
 * Run the attack while calling the normal webhook flow in a loop (and /health every few calls). Returns the
 * attack's finished runs and the normal flow's latencies (ms).
 */
async function whileAttacking<T>(attack: () => Promise<T>): Promise<{ result: T; latencies: number[]; healthChecks: number }> {
  let finished = false;
  const attacking = attack().finally(() => (finished = true));
  const latencies: number[] = [];
  let healthChecks = 0;
  let i = 0;
  while (!finished || latencies.length < 5) {
    const started = performance.now();
    const answer = await server.api('POST', '/webhook/normal', { id: `n-${i}`, items: [{ qty: 2, price: i % 2 ? 10 : 60 }] });
    latencies.push(performance.now() - started);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ id: `n-${i}`, total: i % 2 ? 20 : 120, status: i % 2 ? 'approved' : 'review' });
    if (i++ % 5 === 0) {
      const health = await server.api('GET', '/api/v1/health');
      expect(health.status).toBe(200);
      healthChecks++;
    }
  }
  return { result: await attacking, latencies, healthChecks };
}

const endless = '($f := function($x){ $f($x) }; $f(1))';
const backtracking = 'a'.repeat(30) + '!';
const billionLaughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]', ...'bcdefghi'.split('').map((name, i) => `${name}: &${name} [${Array(9).fill(`*${'abcdefgh'[i]}`).join(',')}]`)].join('\n');

/** [label, node, payload, expected failure reason (a regex) or 'succeeds'] */
const attacks: Array<[string, { type: string; props: Record<string, unknown> }, unknown, RegExp | 'succeeds']> = [
  ['jsonata node: endless recursion', { type: 'jsonata', props: { expression: endless } }, 1, /^JSONata expression exceeded its time limit of 1000 ms \(FLOWCREW_EXPRESSION_TIMEOUT_MS\)$/],
  ['jsonata node: non-tail recursion (heap exhaustion before)', { type: 'jsonata', props: { expression: '($f := function($x){ 1 + $f($x) }; $f(1))' } }, 1, /^JSONata expression exceeded its depth limit of 5000/],
  ['jsonata node: $count([1..10000000].([1..10]))', { type: 'jsonata', props: { expression: '$count([1..10000000].([1..10]))' } }, 1, /than the limit of 1000000 \(FLOWCREW_MAX_ITEMS\)$/],
  ['jsonata node: $pad("x", 500000000) (a fatal crash before)', { type: 'jsonata', props: { expression: '$pad("x", 500000000)' } }, 1, /^\$pad to width 500000000 exceeds the string limit/],
  ['change rule: JSONata value that never ends', { type: 'change', props: { rules: [{ t: 'set', p: 'payload', to: endless, tot: 'jsonata' }] } }, 1, /^JSONata expression exceeded its time limit/],
  ['switch rule: JSONata expression that never ends', { type: 'switch', props: { property: 'payload', rules: [{ t: 'jsonata_exp', v: endless, vt: 'jsonata' }] } }, 1, /^JSONata expression exceeded its time limit/],
  ['switch rule: regex ^(a+)+$ (linear-time engine)', { type: 'switch', props: { property: 'payload', rules: [{ t: 'regex', v: '^(a+)+$' }, { t: 'else' }] } }, backtracking, 'succeeds'],
  ['switch rule: lookahead regex (JavaScript engine, deadline)', { type: 'switch', props: { property: 'payload', rules: [{ t: 'regex', v: '^(?=a)(a+)+$' }] } }, 'a'.repeat(32) + '!', /^The regular expression .* exceeded its time limit of 100 ms/],
  ['change rule: from (a+)+$ as a regex (linear-time engine)', { type: 'change', props: { rules: [{ t: 'change', p: 'payload', from: '(a+)+$', fromt: 're', to: 'x' }] } }, backtracking, 'succeeds'],
  ['jsonata node: $match(payload, /^(a+)+$/) (linear-time engine)', { type: 'jsonata', props: { expression: '$match(payload, /^(a+)+$/)' } }, backtracking, 'succeeds'],
  ['csv node: 100,000-column header', { type: 'csv', props: { hdrin: true, multi: 'mult' } }, Array.from({ length: 100_000 }, (_, i) => `c${i}`).join(',') + '\n1,2\n', /^The CSV column list has more columns than the limit of 16384/],
  ['yaml node: billion laughs', { type: 'yaml', props: {} }, billionLaughs, /^The YAML document holds more than 1000000 values once written out/],
  ['json node: nested 5,000 deep', { type: 'json', props: { action: 'obj' } }, '['.repeat(5000) + ']'.repeat(5000), /^The JSON is nested more than 128 levels deep/],
  ['template node: nested sections over the message', { type: 'template', props: { template: '{{#payload}}{{#payload}}{{#payload}}{{#payload}}x{{/payload}}{{/payload}}{{/payload}}{{/payload}}' } }, Array.from({ length: 300 }, (_, i) => i), /^The mustache template (exceeded its time limit|renders more than)/],
];

describe('hardening: host-side evaluation (through the API, another flow measured meanwhile)', () => {
  it.each(attacks.map((attack, index) => [...attack, index] as const))('%s', async (_label, node, payload, expected, index) => {
    const flowId = `attack-${index}`;
    await deployVictim(flowId, node);
    const started = performance.now();
    const { result: run, latencies, healthChecks } = await whileAttacking(async () => server.waitRun(await startRun(flowId, payload), 30_000));
    const victim = victimOf(run);
    if (expected === 'succeeds') {
      expect(run.status, victim?.error).toBe('succeeded');
    } else {
      expect(run.status).toBe('failed');
      expect(victim?.error).toMatch(expected);
    }
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(healthChecks).toBeGreaterThan(0);
    // A liveness bound, not a speed figure (bench/limits.ts has those): before the fix every one of these requests
    // waited for the attack (60 s+); 3 s leaves room for a loaded CI machine and still proves nothing stalled.
    expect(p99(latencies)).toBeLessThan(3_000);
  }, 60_000);

  it('all the attacks at once: each fails or answers, and the normal flow keeps its latency', async () => {
    // Accepted first: taking in 14 runs at once, some with payloads of hundreds of KB, is the runtime's own work
    // (storing them), not the evaluation this test is about.
    const runIds = await Promise.all(attacks.map(([, , payload], index) => startRun(`attack-${index}`, payload)));
    const { result: runs, latencies } = await whileAttacking(() => Promise.all(runIds.map((runId) => server.waitRun(runId, 60_000))));
    runs.forEach((run, index) => expect(run.status, attacks[index]![0]).toBe(attacks[index]![3] === 'succeeds' ? 'succeeded' : 'failed'));
    expect(latencies.length).toBeGreaterThan(5);
    expect(p99(latencies)).toBeLessThan(3_000);
  }, 120_000);
});
