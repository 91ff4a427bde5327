import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { InvocationRecord, RunDetail as RunDetailRecord } from '../../api/types';
import { fakeApi } from '../../test/fake-api';
import { useCrewStreamStore } from '../../stores/crewStream';
import { useLiveStore } from '../../stores/live';
import { useRunsStore } from '../../stores/runs';
import RunDetail from '../RunDetail.vue';
import { crewSignature } from './live-refresh';

const RUN = 'run-live-0001';
const CREW = 'inv-crew';
const crewInvocation: InvocationRecord = { id: CREW, runId: RUN, nodeId: 'team', nodeType: 'ai-crew', status: 'pending', attempt: 1, input: { payload: 'otters' }, outputs: null, error: null, parentId: null, seq: 0, createdAt: 1000, startedAt: 1000, finishedAt: null };
const taskStep = (key: string, seq: number): InvocationRecord => ({
  id: `${CREW}/task:${key}`, runId: RUN, nodeId: 'team', nodeType: 'ai-crew#task', status: 'succeeded', attempt: 1,
  input: { step: { key: `task:${key}`, kind: 'task', label: key }, input: { task: key } },
  outputs: [{ port: 0, msg: { task: key, agent: 'Researcher', output: `${key} done` } }], error: null, parentId: CREW, seq, createdAt: 1000, startedAt: 1000, finishedAt: 1100,
});
const run = (invocations: InvocationRecord[], status: RunDetailRecord['status'] = 'running'): RunDetailRecord => ({
  id: RUN, flowId: 'crew', flowVersion: 1, status, triggerNodeId: null, input: { payload: 'otters' }, error: null, parentRunId: null, createdAt: 1000, startedAt: 1000, finishedAt: null, invocations,
});
const progress = (data: Record<string, unknown>) => useCrewStreamStore().onProgress({ flowId: 'crew', runId: RUN, nodeId: 'team', invocationId: CREW, data });

describe('the run view while a run is active', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it("shows a crew's newly stored steps as its tasks progress, without a reload", async () => {
    let stored = [crewInvocation];
    const api = fakeApi({ 'GET /runs/run-live-0001': () => ({ body: run(stored) }) });
    useRunsStore().current = run(stored);
    const wrapper = mount(RunDetail);
    expect(wrapper.find('[data-test="invocation-steps"]').exists()).toBe(false);

    // The first task ends and is stored; the second starts (its progress event): the view reads the run again.
    stored = [crewInvocation, taskStep('research', 1)];
    progress({ type: 'task-start', task: 'research', agent: 'Researcher' });
    progress({ type: 'task-end', task: 'research', agent: 'Researcher' });
    progress({ type: 'task-start', task: 'write', agent: 'Writer' });
    await vi.waitFor(() => expect(wrapper.findAll('[data-test="step-task"]').length).toBe(1));
    expect(wrapper.find('[data-test="step-answer"]').text()).toBe('research done');

    // Tokens alone read nothing (the live panel shows them).
    const reads = api.called('GET /runs/run-live-0001').length;
    progress({ type: 'token', task: 'write', agent: 'Writer', text: 'Otters' });
    await flushPromises();
    expect(api.called('GET /runs/run-live-0001').length).toBe(reads);

    // A node event (the live store's tick) reads again too: the second step appears.
    stored = [crewInvocation, taskStep('research', 1), taskStep('write', 2)];
    useLiveStore().onNodeStarted({ flowId: 'crew', runId: RUN, nodeId: 'out', invocationId: 'inv-out', nodeType: 'debug', startedAt: 2000 } as never);
    await vi.waitFor(() => expect(wrapper.findAll('[data-test="step-task"]').length).toBe(2));
    wrapper.unmount();
  });

  it('reads nothing for a finished run, nor for another run’s progress', async () => {
    const api = fakeApi({ 'GET /runs/run-live-0001': { body: run([crewInvocation], 'succeeded') } });
    useRunsStore().current = run([crewInvocation], 'succeeded');
    const wrapper = mount(RunDetail);
    progress({ type: 'task-start', task: 'research', agent: 'Researcher' });
    useCrewStreamStore().onProgress({ flowId: 'crew', runId: 'other', nodeId: 'team', invocationId: 'x', data: { type: 'task-start', task: 't' } });
    await flushPromises();
    expect(api.called('GET /runs/run-live-0001')).toEqual([]);
    wrapper.unmount();
  });

  it('tells progress apart by task state and events, not tokens', () => {
    const stream = { runId: RUN, tasks: [{ task: 'a', state: 'running', events: [] as string[], text: 'x' }] };
    const before = crewSignature({ k: stream }, RUN);
    stream.tasks[0]!.text = 'xyz';
    expect(crewSignature({ k: stream }, RUN)).toBe(before);
    stream.tasks[0]!.events.push('tool called');
    expect(crewSignature({ k: stream }, RUN)).not.toBe(before);
    expect(crewSignature({ k: stream }, 'other')).toBe('');
  });
});
