import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { rangeNode, type RangeProps } from './range.ts';

async function run(props: Partial<RangeProps>, payloads: unknown[]) {
  const node = await createTestNode(rangeNode, { minin: 0, maxin: 10, minout: 0, maxout: 100, ...props });
  const out: unknown[] = [];
  for (const payload of payloads) out.push(...(await node.input({ payload })).map((s) => s.msg.payload));
  return out;
}

describe('range node', () => {
  it('scales, clamps, rolls over and drops like Node-RED', async () => {
    expect(await run({ action: 'scale' }, [5, '2.5', 15, -1])).toEqual([50, 25, 150, -10]);
    expect(await run({ action: 'clamp' }, [15, -1, 5])).toEqual([100, 0, 50]);
    expect(await run({ action: 'roll' }, [12, -1])).toEqual([20, 90]);
    expect(await run({ action: 'drop' }, [12, 5, -1])).toEqual([50]);
  });

  it('rounds, accepts string bounds and reversed ranges', async () => {
    expect(await run({ round: true, minin: '0', maxin: '3', minout: '0', maxout: '10' }, [1])).toEqual([3]);
    expect(await run({ minin: 10, maxin: 0, minout: 100, maxout: 0 }, [5, 10])).toEqual([50, 100]);
  });

  it('passes a message without the property, drops one that is not a number, reads other properties', async () => {
    const node = await createTestNode(rangeNode, { minin: 0, maxin: 1, minout: 0, maxout: 10, property: 'data.v' });
    expect((await node.input({ payload: 'x' })).map((s) => s.msg)).toEqual([{ payload: 'x' }]);
    expect(await node.input({ data: { v: 'abc' } })).toEqual([]);
    expect((await node.input({ data: { v: 0.5 } }))[0]!.msg).toEqual({ data: { v: 5 } });
  });
});
