/**
 * split (stream), csv and switch carry state from one message to the next; a node restarted in the middle of a
 * sequence (a new instance on the stored node context) carries on, and an invocation replayed after a crash (its
 * context write committed, its completion not) starts again from the state it started from.
 */
import { describe, expect, it } from 'vitest';
import { createTestNode, type TestNode } from '@flowcrew/sdk/testing';
import type { NodeDefinition } from '@flowcrew/sdk';
import { csvNode } from './csv.ts';
import { splitNode } from './split.ts';
import { switchNode, type SwitchProps } from './switch.ts';

async function restart<P>(definition: NodeDefinition<P>, props: Partial<P>, old: TestNode): Promise<TestNode> {
  await old.stop();
  return createTestNode(definition, props, { context: { node: old.context.node } });
}
/** The harness numbers a node's invocations from 1: after a restart, give them ids the old instance did not use. */
let invocations = 0;
const fresh = () => ({ invocationId: `after-restart-${++invocations}` });
const payloads = (sent: Array<{ msg: { payload?: unknown } }>) => sent.map((s) => s.msg.payload);

describe('split stream across a restart', () => {
  it('prepends the leftover kept before the restart and numbers on', async () => {
    const before = await createTestNode(splitNode, { stream: true });
    expect(payloads(await before.input({ payload: 'a\nb' }))).toEqual(['a']);
    const after = await restart(splitNode, { stream: true }, before);
    const sent = await after.input({ payload: 'c\nd' }, fresh());
    expect(payloads(sent)).toEqual(['bc']);
    expect(sent[0]!.msg).toMatchObject({ parts: { index: 1 } });
  });

  it('keeps a buffer leftover, and a replayed invocation does not take its own leftover twice', async () => {
    const props = { stream: true, splt: '[10]', spltType: 'bin' as const };
    const before = await createTestNode(splitNode, props);
    await before.input({ payload: Buffer.from('x\ny') }, { invocationId: 'first' });
    await before.input({ payload: Buffer.from('z\nw') }, { invocationId: 'second' });
    // Crash after "second" stored its state but before its completion: the resume replays "second".
    const after = await restart(splitNode, props, before);
    const replayed = await after.input({ payload: Buffer.from('z\nw') }, { invocationId: 'second' });
    expect(replayed.map((s) => (s.msg.payload as Buffer).toString())).toEqual(['yz']);
    expect(replayed[0]!.msg).toMatchObject({ parts: { index: 1 } });
    const next = await after.input({ payload: Buffer.from('\n') }, { invocationId: 'third' });
    expect(next.map((s) => (s.msg.payload as Buffer).toString())).toEqual(['w']);
  });
});

describe('csv across a restart', () => {
  it('reads the rows of a sequence with the header line read before the restart', async () => {
    const props = { hdrin: true, multi: 'one' as const, temp: '' };
    const before = await createTestNode(csvNode, props);
    expect(await before.input({ payload: 'name,age\n', parts: { id: 's', index: 0, count: 3 } })).toEqual([]);
    const after = await restart(csvNode, props, before);
    expect(payloads(await after.input({ payload: 'Ada,36\n', parts: { id: 's', index: 1, count: 3 } }, fresh()))).toEqual([{ name: 'Ada', age: 36 }]);
  });

  it('does not send the header row again after a restart (hdrout once), only after msg.reset', async () => {
    const props = { temp: 'a,b', hdrout: 'once' as const };
    const before = await createTestNode(csvNode, props);
    expect(payloads(await before.input({ payload: { a: 1, b: 2 } }))).toEqual(['a,b\n1,2\n']);
    const after = await restart(csvNode, props, before);
    expect(payloads(await after.input({ payload: { a: 3, b: 4 } }, fresh()))).toEqual(['3,4\n']);
    expect(payloads(await after.input({ payload: { a: 5, b: 6 }, reset: true }, fresh()))).toEqual(['a,b\n5,6\n']);
  });

  it('gathers the rows of a sequence (multi) across the restart', async () => {
    const props = { temp: 'x', multi: 'mult' as const };
    const before = await createTestNode(csvNode, props);
    await before.input({ payload: '1', parts: { id: 'g', index: 0, count: 2 } });
    const after = await restart(csvNode, props, before);
    expect(payloads(await after.input({ payload: '2', parts: { id: 'g', index: 1, count: 2 } }, fresh()))).toEqual([[{ x: 1 }, { x: 2 }]]);
  });
});

describe('switch across a restart', () => {
  it('routes a sequence held for a tail rule, begun before the restart', async () => {
    const props: Partial<SwitchProps> = { property: 'payload', checkall: 'true', rules: [{ t: 'tail', v: '1', vt: 'num' }, { t: 'else' }] };
    const before = await createTestNode(switchNode, props);
    expect(await before.input({ payload: 'a', parts: { id: 'q', index: 0, count: 3 } })).toEqual([]);
    expect(await before.input({ payload: 'b', parts: { id: 'q', index: 1, count: 3 } })).toEqual([]);
    const after = await restart(switchNode, props, before);
    const sent = await after.input({ payload: 'c', parts: { id: 'q', index: 2, count: 3 } }, fresh());
    expect(sent.map((s) => [s.port, s.msg.payload])).toEqual([[1, 'a'], [1, 'b'], [0, 'c']]);
    // Done with: nothing is held any more.
    expect(after.context.node.get('switch:state')).toMatchObject({ after: { pending: [] } });
  });

  it('compares with the previous value seen before the restart', async () => {
    const props: Partial<SwitchProps> = { property: 'payload', rules: [{ t: 'gt', v: '', vt: 'prev' }] };
    const before = await createTestNode(switchNode, props);
    await before.input({ payload: 10 });
    const after = await restart(switchNode, props, before);
    expect(await after.input({ payload: 5 }, fresh())).toHaveLength(0);
    expect(await after.input({ payload: 7 }, fresh())).toHaveLength(1);
  });
});
