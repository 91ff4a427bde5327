import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { FlowMessage } from '@flowcrew/sdk';
import { filterNode, type FilterProps } from './filter.ts';

async function passed(props: Partial<FilterProps>, msgs: FlowMessage[]) {
  const node = await createTestNode(filterNode, props);
  const out: unknown[] = [];
  for (const msg of msgs) out.push(...(await node.input(msg)).map((s) => s.msg.payload));
  return out;
}
const values = (...payloads: unknown[]) => payloads.map((payload) => ({ payload }));

describe('filter (rbe) node', () => {
  it('rbe passes changes only, comparing objects deeply; rbei also blocks the first value', async () => {
    expect(await passed({}, values(1, 1, 2, 2, 1, { a: [1] }, { a: [1] }, { a: [2] }))).toEqual([1, 2, 1, { a: [1] }, { a: [2] }]);
    expect(await passed({ func: 'rbei' }, values(1, 1, 2))).toEqual([2]);
  });

  it('keeps a value per topic, and msg.reset forgets it', async () => {
    const msgs = [{ topic: 'a', payload: 1 }, { topic: 'b', payload: 1 }, { topic: 'a', payload: 1 }, { topic: 'a', payload: 1, reset: true }];
    expect(await passed({}, msgs)).toEqual([1, 1, 1]);
    expect(await passed({ septopics: false }, msgs)).toEqual([1, 1]);
  });

  it('deadband passes numbers that moved more than the gap (or at least it), percentages of the last value', async () => {
    expect(await passed({ func: 'deadband', gap: '5' }, values(10, 14, 15, 16, 22))).toEqual([10, 16, 22]);
    expect(await passed({ func: 'deadbandEq', gap: '5' }, values(10, 15, 16))).toEqual([10, 15]);
    expect(await passed({ func: 'deadband', gap: '10%' }, values(100, 105, 111, 120))).toEqual([100, 111]);
    expect(await passed({ func: 'deadband', gap: '5', inout: 'in' }, values(10, 14, 18, 30))).toEqual([10, 30]);
  });

  it('narrowband drops outliers, compared with a start value', async () => {
    expect(await passed({ func: 'narrowband', gap: '5', start: '10' }, values(12, 30, 14, 20))).toEqual([12, 14]);
    // The Eq variants block a move of exactly the gap (narrowband lets it through), as in Node-RED.
    expect(await passed({ func: 'narrowbandEq', gap: '5' }, values(10, 15, 14))).toEqual([10, 14]);
    expect(await passed({ func: 'narrowband', gap: '5' }, values(10, 15))).toEqual([10, 15]);
  });
});
