import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { RunDetail as RunDetailRecord } from '../api/types';
import { fakeApi } from '../test/fake-api';
import { useNoticesStore } from '../stores/notices';
import { useRunsStore } from '../stores/runs';
import RunDetail from './RunDetail.vue';

describe('RunDetail', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it('shows each node’s input, output, timing and error', () => {
    useRunsStore().current = {
      id: '0123456789', flowId: 'orders', flowVersion: 2, status: 'failed', triggerNodeId: 'in', input: { payload: { id: 7 } }, error: 'total failed', parentRunId: null, createdAt: 1000, startedAt: 1000, finishedAt: 1450,
      invocations: [
        { id: 'b', runId: '0123456789', nodeId: 'total', nodeType: 'jsonata', status: 'failed', attempt: 2, input: { payload: { id: 7 } }, outputs: null, error: 'undefined function $sum2', parentId: 'a', seq: 1, createdAt: 1000, startedAt: 1010, finishedAt: 1400 },
        { id: 'a', runId: '0123456789', nodeId: 'in', nodeType: 'webhook', status: 'succeeded', attempt: 1, input: null, outputs: [{ port: 0, msg: { payload: { id: 7 } } }], error: null, parentId: null, seq: 0, createdAt: 1000, startedAt: 1000, finishedAt: 1000 },
      ],
    };
    const wrapper = mount(RunDetail);
    expect(wrapper.find('[data-test="run-status"]').text()).toBe('failed');
    // Run ids are UUIDv7: the start is a timestamp shared by runs close in time, the end tells them apart.
    expect(wrapper.find('[data-test="run-id"]').text()).toBe('23456789');
    expect(wrapper.find('[data-test="run-id"]').attributes('title')).toBe('0123456789');
    expect(wrapper.text()).toContain('450 ms');
    const invocations = wrapper.findAll('[data-test="invocation"]');
    const heads = invocations.map((i) => [...i.find('.inv-head').element.children].map((c) => c.textContent));
    expect(heads).toEqual([
      ['succeeded', 'webhook', 'webhook', '0 ms'],
      ['failed', 'jsonata', 'jsonata', 'attempt 2', '390 ms'],
    ]);
    expect(invocations[0]!.text()).toContain('(trigger: no input)');
    expect(invocations[0]!.text()).toContain('"id": 7');
    expect(invocations[1]!.find('.error').text()).toBe('undefined function $sum2');
    expect(invocations[1]!.text()).toContain('nothing sent');
  });

  it("shows a crew's tasks as cards: agent, answer, model rounds, tool calls and the crew's tokens", () => {
    // The shape the ai-crew node sends (msg.crew), as stored in the run record.
    const crew = {
      process: 'sequential',
      tasks: [
        { task: 'facts', name: 'Find facts', agent: 'researcher', output: 'Otters hold hands.', iterations: 2, toolCalls: [{ tool: 'http-request', ok: true }, { tool: 'ai-retrieve', ok: false }], notes: [] },
        { task: 'post', agent: 'writer', output: 'A post about otters.', iterations: 1, toolCalls: [], notes: ['context window: truncated'] },
      ],
      usage: { promptTokens: 120, completionTokens: 30 },
    };
    useRunsStore().current = {
      id: 'crewrun001', flowId: 'crew', flowVersion: 1, status: 'succeeded', triggerNodeId: 'in', input: { payload: 'otters' }, error: null, parentRunId: null, createdAt: 1, startedAt: 1, finishedAt: 2,
      invocations: [{ id: 'c', runId: 'crewrun001', nodeId: 'team', nodeType: 'ai-crew', status: 'succeeded', attempt: 1, input: { payload: 'otters' }, outputs: [{ port: 0, msg: { payload: 'A post about otters.', crew } }], error: null, parentId: null, seq: 1, createdAt: 1, startedAt: 1, finishedAt: 2 }],
    };
    const wrapper = mount(RunDetail);
    const cards = wrapper.findAll('[data-test="crew-task"]');
    expect(cards.map((c) => c.find('header').text())).toEqual(['Find facts · by researcher · 2 model rounds', 'post · by writer · 1 model round']);
    expect(cards[0]!.find('[data-test="crew-task-answer"]').text()).toBe('Otters hold hands.');
    expect(cards[0]!.findAll('.tool-call').map((c) => c.text())).toEqual(['http-request', 'ai-retrieve (failed)']);
    expect(cards[1]!.text()).toContain('context window: truncated');
    expect(wrapper.find('[data-test="crew-result"]').text()).toContain('120 + 30 = 150 tokens');
  });

  const past: RunDetailRecord = {
    id: 'old', flowId: 'orders', flowVersion: 2, status: 'succeeded', triggerNodeId: 'in', input: { payload: 1 }, error: null, parentRunId: null, createdAt: 1, startedAt: 1, finishedAt: 2,
    invocations: [],
  };

  it('re-runs through the runtime and opens the new run', async () => {
    const api = fakeApi({
      'POST /runs/old/rerun': { status: 202, body: { runId: 'new', status: 'accepted' } },
      'GET /runs/new': { body: { ...past, id: 'new', status: 'running', finishedAt: null } },
    });
    useRunsStore().current = past;
    const wrapper = mount(RunDetail);
    await wrapper.find('[data-test="rerun"]').trigger('click');
    await flushPromises();
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /runs/old/rerun', 'GET /runs/new']);
    expect(useRunsStore().current?.id).toBe('new');
    expect(useNoticesStore().notices.map((n) => [n.kind, n.text, n.detail])).toEqual([['success', 'Run started again with the original input', 'run new']]);
  });

  it('says why the runtime refused the re-run', async () => {
    fakeApi({ 'POST /runs/old/rerun': { status: 409, body: { title: 'Flow not deployed', status: 409, detail: 'flow "orders" is not deployed: deploy it before re-running' } } });
    useRunsStore().current = past;
    const wrapper = mount(RunDetail);
    await wrapper.find('[data-test="rerun"]').trigger('click');
    await flushPromises();
    expect(useRunsStore().current?.id).toBe('old');
    expect(useNoticesStore().notices.map((n) => [n.kind, n.text, n.detail])).toEqual([
      ['error', 'Could not re-run', 'Flow not deployed: flow "orders" is not deployed: deploy it before re-running'],
    ]);
    expect(wrapper.find('[data-test="rerun"]').attributes('disabled')).toBeUndefined();
  });

  it('re-runs a test run as a test run (the flow as edited, isolated), never as a run of the deployed flow', async () => {
    const testRun: RunDetailRecord = { ...past, id: 'old-test', test: true, input: { payload: 1, _msgid: 'm-old' } };
    const answer = { run: { ...testRun, id: 'new-test', input: { payload: 1 } }, invocations: [], timedOut: false, pinned: [], ignored: [], ran: 'saved', inHistory: true };
    const api = fakeApi({ 'POST /flows/orders/pinned-runs': { body: answer }, 'GET /runs/new-test': { body: { ...answer.run, invocations: [] } } });
    useRunsStore().current = testRun;
    const wrapper = mount(RunDetail);
    expect(wrapper.find('[data-test="rerun"]').text()).toBe('↻ Re-run as test');
    await wrapper.find('[data-test="rerun"]').trigger('click');
    await flushPromises();
    expect(api.calls.map((c) => `${c.method} ${c.path}`)).toEqual(['POST /flows/orders/pinned-runs', 'GET /runs/new-test']);
    // The original input at the node it entered, without the old message id.
    expect(api.calls[0]!.body).toEqual({ input: { payload: 1 }, nodeId: 'in' });
    expect(useRunsStore().current).toMatchObject({ id: 'new-test', test: true });
    expect(useNoticesStore().notices.map((n) => [n.kind, n.text, n.detail])).toEqual([['success', 'Test run ran again with the original input', 'test run new-test']]);
  });

  it('shows a node still at work in a running run as running, not as its stored "pending"', () => {
    useRunsStore().current = {
      ...past, id: 'live', status: 'running', finishedAt: null,
      invocations: [{ id: 'c', runId: 'live', nodeId: 'team', nodeType: 'ai-crew', status: 'pending', attempt: 1, input: { payload: 'otters' }, outputs: null, error: null, parentId: null, seq: 1, createdAt: 1, startedAt: null, finishedAt: null }],
    };
    const wrapper = mount(RunDetail);
    expect(wrapper.find('[data-test="invocation-status"]').text()).toBe('running');
  });
});
