/** ctx.error: a node reports an error to the catch nodes and still succeeds; its output goes on along the wires. */
import { afterEach, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from './test-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const reporting = [
  { id: 't', type: 'test-trigger', wires: [['r']] },
  { id: 'r', type: 'test-report', name: 'lookup', wires: [['b']] },
  { id: 'b', type: 'test-step', wires: [] },
];
const catching = [{ id: 'c', type: 'catch', wires: [['after']] }, { id: 'after', type: 'test-step', wires: [] }];

describe('errors reported with ctx.error', () => {
  it('go to the catch nodes with the message as it was when reported, while the output goes on; the run succeeds', async () => {
    h = await createHarness();
    await h.deploy([...reporting, ...catching]);
    const run = await h.finished((await h.triggers.get('t')!({ payload: 1 })).runId);
    expect(run.status).toBe('succeeded');
    expect(h.calls.sort()).toEqual(['after:1', 'b:1+sent', 'r:1']);
    const stored = await h.storage.listInvocations(run.id);
    expect(stored.find((i) => i.nodeId === 'r')).toMatchObject({ status: 'succeeded', error: null });
    expect(stored.find((i) => i.nodeId === 'after')!.input).toMatchObject({ payload: 1, error: { message: 'r reported', source: { id: 'r', type: 'test-report', name: 'lookup' } } });
    const passedOn = stored.find((i) => i.nodeId === 'b')!.input as Record<string, unknown>;
    expect(passedOn.payload).toBe('1+sent');
    expect(passedOn).not.toHaveProperty('error');
  });

  it('without a catch node the run still succeeds and the output goes on', async () => {
    h = await createHarness();
    await h.deploy(reporting);
    const run = await h.finished((await h.triggers.get('t')!({ payload: 2 })).runId);
    expect(run.status).toBe('succeeded');
    expect(h.calls).toEqual(['r:2', 'b:2+sent']);
  });

  it('a catch handler that fails fails the run, as a handler of a thrown error does', async () => {
    h = await createHarness();
    await h.deploy([...reporting, ...catching]);
    h.failures.set('after', 1);
    const run = await h.finished((await h.triggers.get('t')!({ payload: 3 })).runId);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('node "after" failed: after failed on purpose');
  });

  it('is not caught again when reported on a message a catch node already delivered (no loop)', async () => {
    h = await createHarness();
    await h.deploy([
      { id: 't', type: 'test-trigger', wires: [['a']] },
      { id: 'a', type: 'test-step', wires: [] },
      { id: 'c', type: 'catch', wires: [['r']] },
      { id: 'r', type: 'test-report', wires: [] },
    ]);
    h.failures.set('a', 1);
    const run = await h.finished((await h.triggers.get('t')!({ payload: 4 })).runId);
    expect(run.status).toBe('succeeded');
    expect(h.calls).toEqual(['a:4', 'r:4']);
  });
});
