/**
 * n8n Merge "append": n8n waits until each input has its items, then outputs input 1's before input 2's. The
 * translation's code is checked on interleaved runs, and an imported workflow whose input 1 is the slower branch
 * answers with input 1's item through a real runtime, as n8n answers (Respond to Webhook: first incoming item).
 * A Schedule's recurrence check (n8n-schedule.ts) is run there too, in the real function sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { allItemsCode, MERGE_PENDING_RUNS, mergeAppendCode } from './n8n-merge.ts';

type Msg = { _msgid: string; _n8nMergeInput?: number; payload: unknown };

/** Runs the Merge's code on messages in the order given, with one node context: what it sends for each. */
function mergeRuns(inputs: number, arriving: Msg[], waitFor?: number[]): unknown[][] {
  const store = new Map<string, unknown>();
  const context = { get: (k: string) => structuredClone(store.get(k)), set: (k: string, v: unknown) => (v === undefined ? store.delete(k) : store.set(k, structuredClone(v))) };
  const run = new Function('msg', 'context', mergeAppendCode(inputs, waitFor)) as (msg: Msg, c: typeof context) => [Msg[]] | Msg | null;
  return arriving.map((msg) => {
    const out = run(structuredClone(msg), context);
    if (out === null) return [];
    return (Array.isArray(out) ? out[0] : [out]).map((m) => m.payload);
  });
}

const item = (run: string, input: number, payload: string): Msg => ({ _msgid: run, _n8nMergeInput: input, payload });

describe('n8n Merge (append): the translated code', () => {
  it("holds a run's items until each input has one, then sends input 1's first; runs do not mix", () => {
    const sent = mergeRuns(2, [item('r1', 1, 'r1-b'), item('r2', 0, 'r2-a'), item('r1', 0, 'r1-a'), item('r2', 1, 'r2-b'), item('r1', 1, 'r1-b2')]);
    expect(sent).toEqual([[], [], ['r1-a', 'r1-b'], ['r2-a', 'r2-b'], ['r1-b2']]);
  });

  it('three inputs (Merge v3 numberInputs)', () => {
    expect(mergeRuns(3, [item('r', 2, 'c'), item('r', 0, 'a'), item('r', 1, 'b')])).toEqual([[], [], ['a', 'b', 'c']]);
  });

  it('an input nothing is connected to is not waited for (n8n runs the Merge with what it has)', () => {
    expect(mergeRuns(2, [item('r', 0, 'a')], [0])).toEqual([['a']]);
  });

  it(`at most ${MERGE_PENDING_RUNS} runs wait: the oldest is then sent with what it has, nothing is dropped`, () => {
    const arriving = Array.from({ length: MERGE_PENDING_RUNS + 2 }, (_, i) => item(`r${i}`, 0, `a${i}`));
    const sent = mergeRuns(2, arriving);
    expect(sent.flat()).toEqual(['a0', 'a1']);
  });
});

describe('n8n Respond to Webhook (all incoming items) after a Merge: the translated code', () => {
  type Sent = [Msg[]] | Msg | null;
  const node = (code: string) => {
    const store = new Map<string, unknown>();
    const context = { get: (k: string) => structuredClone(store.get(k)), set: (k: string, v: unknown) => (v === undefined ? store.delete(k) : store.set(k, structuredClone(v))) };
    const run = new Function('msg', 'context', code) as (msg: Msg, c: typeof context) => Sent;
    return (msg: Msg): Msg[] => {
      const out = run(structuredClone(msg), context);
      return out === null ? [] : Array.isArray(out) ? out[0] : [out];
    };
  };

  it("gathers the items a Merge sent together into one answer, in the Merge's order, runs apart", () => {
    const merge = node(mergeAppendCode(2, undefined, 'm'));
    const respond = node(allItemsCode());
    const merged = [item('r1', 1, 'b1'), item('r2', 1, 'b2'), item('r2', 0, 'a2'), item('r1', 0, 'a1')].flatMap(merge);
    expect(merged.map((m) => m.payload)).toEqual(['a2', 'b2', 'a1', 'b1']);
    // the second item of each run arrives first
    const answers = [merged[1]!, merged[3]!, merged[0]!, merged[2]!].flatMap(respond);
    expect(answers.map((m) => m.payload)).toEqual([['a2', 'b2'], ['a1', 'b1']]);
    expect(answers.every((m) => !('_n8nItems' in m))).toBe(true);
  });

  it('an item no Merge sent is one item: answered at once as an array of one', () => {
    expect(node(allItemsCode())(item('r', 0, 'x')).map((m) => m.payload)).toEqual([['x']]);
  });
});

let flowcrew: TestServer | undefined;

describe('n8n Merge (append) through a real runtime', () => {
  const workflow = {
    id: 'merge-append', name: 'merge append', nodes: [
      { id: 'hook', name: 'Hook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], webhookId: 'merge-append', parameters: { httpMethod: 'POST', path: 'merge-append', responseMode: 'responseNode', options: {} } },
      { id: 'slow', name: 'Slow', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [200, 0], parameters: { amount: 0.3, unit: 'seconds' } },
      { id: 'seta', name: 'Set A', type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [400, 0], parameters: { mode: 'manual', assignments: { assignments: [{ id: '1', name: 'from', value: 'A', type: 'string' }] }, options: {} } },
      { id: 'setb', name: 'Set B', type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [400, 100], parameters: { mode: 'manual', assignments: { assignments: [{ id: '2', name: 'from', value: 'B', type: 'string' }] }, options: {} } },
      { id: 'merge', name: 'Merge', type: 'n8n-nodes-base.merge', typeVersion: 3.2, position: [600, 0], parameters: {} },
      { id: 'respond', name: 'Respond', type: 'n8n-nodes-base.respondToWebhook', typeVersion: 1.1, position: [800, 0], parameters: { options: {} } },
    ],
    connections: {
      Hook: { main: [[{ node: 'Slow', type: 'main', index: 0 }, { node: 'Set B', type: 'main', index: 0 }]] },
      Slow: { main: [[{ node: 'Set A', type: 'main', index: 0 }]] },
      'Set A': { main: [[{ node: 'Merge', type: 'main', index: 0 }]] },
      'Set B': { main: [[{ node: 'Merge', type: 'main', index: 1 }]] },
      Merge: { main: [[{ node: 'Respond', type: 'main', index: 0 }]] },
    },
  };

  beforeAll(async () => {
    flowcrew = await startTestServer();
  }, 60_000);
  afterAll(async () => {
    await flowcrew?.stop();
  });

  it("answers with input 1's item although input 2's came first (n8n's first incoming item)", async () => {
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', workflow);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    const answers = await Promise.all([1, 2, 3].map((n) => fetch(`${flowcrew!.url}/webhook/merge-append`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }) }).then((r) => r.json())));
    for (const answer of answers) expect(answer).toMatchObject({ from: 'A' });
  });

  it("a Schedule every 3 days: its recurrence check runs in the function sandbox, the first firing passes, the same day's next not", async () => {
    const schedule = {
      id: 'every-3-days', name: 'every 3 days', nodes: [
        { id: 'sched', name: 'Schedule', type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, position: [0, 0], parameters: { rule: { interval: [{ field: 'days', daysInterval: 3, triggerAtHour: 6 }] } } },
        { id: 'mark', name: 'Mark', type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [200, 0], parameters: { mode: 'manual', assignments: { assignments: [{ id: '1', name: 'ran', value: true, type: 'boolean' }] }, options: {} } },
      ],
      connections: { Schedule: { main: [[{ node: 'Mark', type: 'main', index: 0 }]] } },
    };
    const imported = await flowcrew!.api('POST', '/api/v1/flows/import?deploy=true', schedule);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    const fired = async () => {
      const started = await flowcrew!.api('POST', '/api/v1/flows/n8n-every-3-days/runs', { nodeId: 'sched-every', input: {} });
      expect(started.status, JSON.stringify(started.body)).toBe(202);
      const run = await flowcrew!.waitRun(started.body.runId as string, 30_000);
      expect(run.status).toBe('succeeded');
      return (run.invocations as Array<{ nodeId: string }>).some((i) => i.nodeId === 'mark');
    };
    expect(await fired()).toBe(true);
    expect(await fired()).toBe(false);
  }, 60_000);
});
