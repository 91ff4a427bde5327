import { envReader } from '@flowcrew/sdk/util';
import { describe, expect, it } from 'vitest';
import { CALLEE_ENV, calledFlowEnv, callerOfEnv, callerScopeEnabled, contextInCalledRun, inCalledRun, instanceEnv, restoredCaller, storedCaller, storedCallerOf } from './caller-env.ts';

const own = envReader({ SITE: 'global', REGION: 'eu' });
const tab = envReader({ REGION: 'north', NR_FLOW_NAME: 'North' });

describe('the calling flow\'s variables inside a called flow', () => {
  it('outside any call the called flow reads its own variables', () => {
    expect(calledFlowEnv(own).value('REGION')).toBe('eu');
  });

  it('inside a call: the instance first, then the calling flow, then its own', () => {
    const env = calledFlowEnv(own);
    const caller = { flowId: 'f1', runId: 'r1', nodeId: 'n1', env: instanceEnv({ UNIT: 'lb' }, { id: 'n1', name: '' }, tab) };
    const read = () => inCalledRun(caller, () => ['UNIT', 'REGION', 'SITE', 'NR_FLOW_NAME', 'NR_SUBFLOW_ID', 'NR_SUBFLOW_NAME', '$parent.UNIT'].map((n) => env.value(n)));
    expect(read()).toEqual(['lb', 'north', 'global', 'North', 'n1', undefined, undefined]);
    // a sandboxed function reads through ctx.context, outside the async scope; it knows its run's caller
    const context = contextInCalledRun({ env } as never, caller);
    expect(context.env!.get('REGION')).toBe('north');
    expect(callerOfEnv(context.env)).toBe(caller);
    // outside the scope: its own again
    expect(env.value('UNIT')).toBeUndefined();
  });

  it("a called run's stored caller (ids, nested) makes the same variables again from the calling nodes", () => {
    // outer flow O (tab variables) calls sub-flow A at node a; A's node b calls sub-flow B.
    const aOwn = calledFlowEnv(envReader({ A_OWN: 'a' }));
    const nodes = new Map<string, { instance: object; context: { env: typeof own } }>([
      ['O/a', { instance: { [CALLEE_ENV]: (e: typeof own) => instanceEnv({ UNIT: 'kg' }, { id: 'a', name: 'weigh' }, e) }, context: { env: tab } }],
      ['A/b', { instance: { [CALLEE_ENV]: (e: typeof own) => instanceEnv({ DEPTH: 2 }, { id: 'b', name: '' }, e) }, context: { env: aOwn } }],
    ]);
    const outer = { flowId: 'O', nodeId: 'a', runId: 'rO' };
    const stored = storedCaller({ flowId: 'A', nodeId: 'b', runId: 'rA', caller: outer });
    expect(stored).toEqual({ flowId: 'A', nodeId: 'b', runId: 'rA', caller: { flowId: 'O', nodeId: 'a', runId: 'rO' } });
    const input = JSON.parse(JSON.stringify({ payload: 1, subflow: { id: 'B', version: 1, caller: stored } })) as unknown;
    const back = restoredCaller(storedCallerOf(input)!, (flowId, nodeId) => nodes.get(`${flowId}/${nodeId}`) as never);
    const bEnv = calledFlowEnv(own);
    expect(inCalledRun(back, () => ['DEPTH', 'A_OWN', 'UNIT', 'REGION', 'NR_SUBFLOW_ID', 'SITE'].map((n) => bEnv.value(n)))).toEqual([2, 'a', 'kg', 'north', 'b', 'global']);
    expect(back.caller).toMatchObject(outer);
    // a calling node no longer deployed: the called flow reads its own variables
    const gone = restoredCaller(storedCallerOf(input)!, () => undefined);
    expect(inCalledRun(gone, () => bEnv.value('REGION'))).toBe('eu');
  });

  it('the scope is off between calls (no async hook for runs never called) and each call still reads its caller through its awaits', async () => {
    const env = calledFlowEnv(own);
    const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
    const callOf = (runId: string, region: string) => ({ flowId: 'f', nodeId: 'n', runId, env: envReader({ REGION: region }) });
    let releaseFirst!: () => void;
    const first = inCalledRun(callOf('r1', 'north'), async () => {
      await new Promise<void>((r) => (releaseFirst = r));
      await tick();
      return env.value('REGION');
    });
    const second = inCalledRun(callOf('r2', 'south'), async () => {
      await tick();
      return env.value('REGION');
    });
    expect(await second).toBe('south');
    await new Promise((resolve) => setImmediate(resolve));
    expect(callerScopeEnabled()).toBe(true); // the first call still goes on
    releaseFirst();
    expect(await first).toBe('north');
    await new Promise((resolve) => setImmediate(resolve));
    expect(callerScopeEnabled()).toBe(false);
    expect(await inCalledRun(callOf('r3', 'west'), async () => (await tick(), env.value('REGION')))).toBe('west');
  });

  it('a malformed stored caller is not taken', () => {
    expect(storedCallerOf({ subflow: { caller: { flowId: 'f', nodeId: 1, runId: 'r' } } })).toBeUndefined();
    expect(storedCallerOf({ payload: 1 })).toBeUndefined();
    expect(storedCallerOf(null)).toBeUndefined();
  });
});
