import { envReader } from '@flowcrew/sdk/util';
import { describe, expect, it } from 'vitest';
import { calledFlowEnv, contextInCalledRun, inCalledRun, instanceEnv, whileCalling } from './caller-env.ts';

const own = envReader({ SITE: 'global', REGION: 'eu' });
const tab = envReader({ REGION: 'north', NR_FLOW_NAME: 'North' });

describe('the calling flow\'s variables inside a called flow', () => {
  it('outside any call the called flow reads its own variables', () => {
    expect(calledFlowEnv(own).value('REGION')).toBe('eu');
  });

  it('inside a call: the instance first, then the calling flow, then its own; only while the call lasts', async () => {
    const env = calledFlowEnv(own);
    const caller = { runId: 'r1', nodeId: 'n1' };
    let release!: () => void;
    const call = whileCalling(caller, instanceEnv({ UNIT: 'lb' }, { id: 'n1', name: '' }, tab), () => new Promise<void>((r) => (release = r)));
    const read = () => inCalledRun(caller, () => ['UNIT', 'REGION', 'SITE', 'NR_FLOW_NAME', 'NR_SUBFLOW_ID', 'NR_SUBFLOW_NAME', '$parent.UNIT'].map((n) => env.value(n)));
    expect(read()).toEqual(['lb', 'north', 'global', 'North', 'n1', undefined, undefined]);
    // a sandboxed function reads through ctx.context, outside the async scope
    expect(contextInCalledRun({ env } as never, caller).env!.get('REGION')).toBe('north');
    release();
    await call;
    expect(read()).toEqual([undefined, 'eu', 'global', undefined, undefined, undefined, undefined]);
  });

  it('two calls of one node at once: the variables stay until the last ends', async () => {
    const env = calledFlowEnv(own);
    const caller = { runId: 'r2', nodeId: 'n1' };
    const ends: Array<() => void> = [];
    const calls = [1, 2].map(() => whileCalling(caller, tab, () => new Promise<void>((r) => ends.push(r))));
    ends[0]!();
    await calls[0];
    expect(inCalledRun(caller, () => env.value('REGION'))).toBe('north');
    ends[1]!();
    await calls[1];
    expect(inCalledRun(caller, () => env.value('REGION'))).toBe('eu');
  });
});
