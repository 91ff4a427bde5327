import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { InputContext } from '@flowcrew/sdk';
import { debugNode, type DebugProps } from './debug.ts';

/** Feed one message and record what reached ctx.debug, with its meta (the harness keeps only the value). */
async function debugCalls(props: Partial<DebugProps>, msg: Record<string, unknown>) {
  const node = await createTestNode(debugNode, props);
  const calls: Array<{ value: unknown; property?: string }> = [];
  const statuses: unknown[] = [];
  const logs: string[] = [];
  const ctx = {
    debug: (value: unknown, meta?: { property?: string }) => calls.push({ value, property: meta?.property }),
    status: (s: unknown) => statuses.push(s),
    log: { info: (m: string) => logs.push(m), debug() {}, warn() {}, error() {} },
  } as unknown as InputContext;
  const returned = await node.instance.onInput!(msg, ctx);
  return { calls, statuses, logs, returned };
}

describe('debug node', () => {
  it('shows msg.payload by default, and outputs nothing', async () => {
    const { calls, returned } = await debugCalls({}, { payload: { a: 1 }, topic: 't' });
    expect(calls).toEqual([{ value: { a: 1 }, property: 'payload' }]);
    expect(returned).toBeUndefined();
  });

  it('shows the whole message with complete "true" (or targetType "full")', async () => {
    const msg = { payload: 1, topic: 't' };
    expect((await debugCalls({ complete: 'true' }, msg)).calls).toEqual([{ value: msg, property: undefined }]);
    expect((await debugCalls({ complete: true, targetType: 'full' }, msg)).calls).toEqual([{ value: msg, property: undefined }]);
  });

  it('shows any property path, and a JSONata expression', async () => {
    expect((await debugCalls({ complete: 'payload.items[1]' }, { payload: { items: ['a', 'b'] } })).calls).toEqual([{ value: 'b', property: 'payload.items[1]' }]);
    expect((await debugCalls({ complete: '$count(payload.items)', targetType: 'jsonata' }, { payload: { items: ['a', 'b'] } })).calls).toEqual([
      { value: 2, property: undefined },
    ]);
  });

  it('reads Node-RED paths: an unreadable property shows as undefined, and JSONata naming msg sees { msg }', async () => {
    expect((await debugCalls({ complete: 'payload[msg.key]' }, { key: 'b', payload: { b: 2 } })).calls).toEqual([{ value: 2, property: 'payload[msg.key]' }]);
    expect((await debugCalls({ complete: 'payload.none.deeper' }, { payload: {} })).calls).toEqual([{ value: undefined, property: 'payload.none.deeper' }]);
    expect((await debugCalls({ complete: 'msg.payload + 1', targetType: 'jsonata' }, { payload: 1 })).calls).toEqual([{ value: 2, property: undefined }]);
  });

  it('sends nothing to the sidebar when inactive or not to the sidebar', async () => {
    expect((await debugCalls({ active: false }, { payload: 1 })).calls).toEqual([]);
    expect((await debugCalls({ tosidebar: false }, { payload: 1 })).calls).toEqual([]);
  });

  it('writes to the server log with console, even when inactive (Node-RED)', async () => {
    const { logs, calls } = await debugCalls({ console: true, active: false }, { payload: 'hello' });
    expect(logs).toEqual(['hello']);
    expect(calls).toEqual([]);
  });

  it('shows the value as status, cut to 32 characters', async () => {
    const { statuses } = await debugCalls({ tostatus: true }, { payload: 'x'.repeat(40) });
    expect(statuses).toEqual([{ fill: 'grey', shape: 'dot', text: `${'x'.repeat(32)}...` }]);
  });

  it("auto status follows Node-RED: a message's status or error wins, a { fill, shape, text } value is a status, an unchanged status is not sent again", async () => {
    const node = await createTestNode(debugNode, { tostatus: true, complete: 'payload' });
    const statuses: unknown[] = [];
    const ctx = { debug() {}, status: (s: unknown) => statuses.push(s), log: { info() {}, debug() {}, warn() {}, error() {} } } as unknown as InputContext;
    await node.instance.onInput!({ payload: 1, status: { fill: 'green', shape: 'ring', text: 'up', source: { id: 'other' } } }, ctx);
    await node.instance.onInput!({ payload: 2, status: { fill: 'green', shape: 'ring', text: 'up', source: { id: 'other' } } }, ctx);
    await node.instance.onInput!({ payload: 3, error: { message: 'broken' } }, ctx);
    await node.instance.onInput!({ payload: { fill: 'blue', shape: 'dot', text: 'mine' } }, ctx);
    expect(statuses).toEqual([
      { fill: 'green', shape: 'ring', text: 'up' },
      { fill: 'red', shape: 'dot', text: 'broken' },
      { fill: 'blue', shape: 'dot', text: 'mine' },
    ]);
  });

  it("ignores a status message about itself (Node-RED's loop guard)", async () => {
    const node = await createTestNode(debugNode, { tostatus: true });
    const calls: unknown[] = [];
    const ctx = { debug: (v: unknown) => calls.push(v), status: (s: unknown) => calls.push(s), log: { info() {}, debug() {}, warn() {}, error() {} } } as unknown as InputContext;
    await node.instance.onInput!({ payload: 1, status: { text: 'x', source: { id: 'n1' } } }, ctx);
    expect(calls).toEqual([]);
  });

  it('shows what statusType chooses: a property, an expression, a counter; auto shows msg.payload for the whole message', async () => {
    expect((await debugCalls({ tostatus: true, statusType: 'msg', statusVal: 'topic' }, { payload: 1, topic: 'room' })).statuses).toEqual([{ fill: 'grey', shape: 'dot', text: 'room' }]);
    expect((await debugCalls({ tostatus: true, statusType: 'jsonata', statusVal: '$string(payload * 2)' }, { payload: 21 })).statuses).toEqual([{ fill: 'grey', shape: 'dot', text: '42' }]);
    expect((await debugCalls({ tostatus: true, complete: 'true', targetType: 'full' }, { payload: 'p', other: 1 })).statuses).toEqual([{ fill: 'grey', shape: 'dot', text: 'p' }]);
    const node = await createTestNode(debugNode, { tostatus: true, statusType: 'counter' });
    await node.input({ payload: 1 });
    await node.input({ payload: 2 });
    expect(node.statuses.map((s) => s.text)).toEqual(['0', '1', '2']);
  });

  it('is recorded by the test harness like any debug output', async () => {
    const node = await createTestNode(debugNode, {});
    expect(await node.input({ payload: 'seen' })).toEqual([]);
    expect(node.debugs).toEqual(['seen']);
  });
});
