import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { InvocationRecord, RunDetail as RunDetailRecord } from '../../api/types';
import { fakeApi } from '../../test/fake-api';
import { useNoticesStore } from '../../stores/notices';
import { useRunsStore } from '../../stores/runs';
import RunDetail from '../RunDetail.vue';
import { nestInvocations } from './step-tree';

const RUN = 'run-00000001';
const CREW = 'inv-crew';

/** A record shaped as the runtime stores it (runtime/src/storage/steps.ts stepInvocation). */
function step(key: string, kind: string, seq: number, output: unknown, extra: { partOf?: string; input?: unknown; copiedFrom?: { runId: string; invocationId: string }; usage?: InvocationRecord['usage']; ms?: number } = {}): InvocationRecord {
  const meta = { key, kind, label: key, ...(extra.partOf ? { partOf: extra.partOf } : {}), ...(extra.copiedFrom ? { copiedFrom: extra.copiedFrom } : {}) };
  return { id: `${CREW}/${key}`, runId: RUN, nodeId: 'team', nodeType: `ai-crew#${kind}`, status: 'succeeded', attempt: 1, input: { step: meta, input: extra.input ?? null }, outputs: [{ port: 0, msg: output }], error: null, parentId: CREW, seq, usage: extra.usage ?? null, createdAt: 1000, startedAt: 1000, finishedAt: 1000 + (extra.ms ?? 0) };
}

const invocations: InvocationRecord[] = [
  { id: 'inv-go', runId: RUN, nodeId: 'go', nodeType: 'inject', status: 'succeeded', attempt: 1, input: null, outputs: [{ port: 0, msg: { payload: { topic: 'otters' } } }], error: null, parentId: null, seq: 0, createdAt: 1000, startedAt: 1000, finishedAt: 1000 },
  {
    id: CREW, runId: RUN, nodeId: 'team', nodeType: 'ai-crew', status: 'succeeded', attempt: 1, input: { payload: { topic: 'otters' } }, error: null, parentId: 'inv-go', seq: 1, createdAt: 1000, startedAt: 1000, finishedAt: 9000,
    outputs: [{ port: 0, msg: { payload: 'A post.', crew: { process: 'hierarchical', tasks: [{ task: 'research' }, { task: 'write' }] } } }],
    usage: { model: 'stand-in', promptTokens: 400, completionTokens: 90 },
  },
  step('plan', 'plan', 2, 'Researcher finds facts, Writer writes.', { usage: { promptTokens: 50, completionTokens: 10 }, ms: 300 }),
  step('assignment:research:a-1', 'assignment', 3, { agent: 'researcher', instructions: 'Three facts, with sources.' }, { partOf: 'task:research' }),
  // A tool call made for the research task: the same node, another type, under the task's step.
  { id: 'inv-tool', runId: RUN, nodeId: 'team', nodeType: 'http-request', status: 'succeeded', attempt: 1, input: { url: 'http://facts' }, outputs: [{ port: 0, msg: { payload: 'otters hold hands' } }], error: null, parentId: `${CREW}/task:research`, seq: 4, createdAt: 1000, startedAt: 1000, finishedAt: 1120 },
  step('delegation:research:a-2', 'delegation', 5, 'They sleep holding hands.', { partOf: 'task:research', input: { question: 'Why do otters hold hands?' } }),
  step('review:research:a-3', 'review', 6, { approved: false, feedback: 'Add a source.' }, { partOf: 'task:research' }),
  step('task:research', 'task', 7, { task: 'research', agent: 'Researcher', output: 'Otters hold hands.', iterations: 2, toolCalls: [{ tool: 'http-request', ok: true }], notes: ['tools offered: used'] }, {
    input: { task: 'research', description: 'Research otters', expectedOutput: 'Three facts', context: [] },
    usage: { promptTokens: 120, completionTokens: 30 },
    ms: 2500,
  }),
  step('task:write', 'task', 8, { task: 'write', agent: 'Writer', output: 'A post.', iterations: 1, toolCalls: [], notes: [] }, { input: { task: 'write', description: 'Write a post', context: ['Output of task "research" (Researcher)'] }, usage: { promptTokens: 200, completionTokens: 40 }, ms: 1200 }),
  // The next node of the flow: parent is the crew, but another node: it stays a node of the run.
  { id: 'inv-out', runId: RUN, nodeId: 'out', nodeType: 'debug', status: 'succeeded', attempt: 1, input: { payload: 'A post.' }, outputs: [], error: null, parentId: CREW, seq: 9, createdAt: 9000, startedAt: 9000, finishedAt: 9000 },
];

const run: RunDetailRecord = { id: RUN, flowId: 'crew', flowVersion: 1, status: 'succeeded', triggerNodeId: 'go', input: {}, error: null, parentRunId: null, createdAt: 1000, startedAt: 1000, finishedAt: 9000, invocations };

describe('a node invocation’s steps, nested', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
  });

  it('nests steps, their parts and tool calls under the invocation; other nodes stay in the run’s list', () => {
    const views = nestInvocations([...invocations].reverse());
    expect(views.map((v) => v.record.id)).toEqual(['inv-go', CREW, 'inv-out']);
    const crew = views[1]!;
    expect(crew.steps.map((s) => s.step.key)).toEqual(['plan', 'task:research', 'task:write']);
    const research = crew.steps[1]!;
    expect(research.parts.map((p) => p.step.kind)).toEqual(['assignment', 'delegation', 'review']);
    expect(research.tools.map((t) => t.id)).toEqual(['inv-tool']);
    expect(research.input).toMatchObject({ description: 'Research otters' });
  });

  it("shows a worker's tool calls filed under the manager's review (the next stored step) with the task", () => {
    const moved = invocations.map((i) => (i.id === 'inv-tool' ? { ...i, parentId: `${CREW}/review:research:a-3` } : i));
    const research = nestInvocations(moved)[1]!.steps[1]!;
    expect(research.tools.map((t) => t.id)).toEqual(['inv-tool']);
    expect(research.parts.find((p) => p.step.kind === 'review')!.tools).toEqual([]);
  });

  it('a node wired to itself is the next message, not a tool call', () => {
    const loop = { ...invocations[0]!, id: 'inv-again', parentId: 'inv-go', seq: 1 };
    expect(nestInvocations([invocations[0]!, loop]).map((v) => v.record.id)).toEqual(['inv-go', 'inv-again']);
  });

  it('shows the plan, then the tasks in order with agent, answer, rounds, tokens, duration, tool calls, assignment, delegation and review', () => {
    useRunsStore().current = run;
    const wrapper = mount(RunDetail);
    expect(wrapper.findAll('[data-test="invocation"]')).toHaveLength(3);
    const steps = wrapper.find('[data-test="invocation-steps"]');
    expect(steps.find('[data-test="step-plan"]').text()).toContain('Researcher finds facts, Writer writes.');
    const tasks = steps.findAll('[data-test="step-task"]');
    expect(tasks.map((t) => t.find('[data-test="step-title"]').text())).toEqual(['research', 'write']);
    expect(tasks.map((t) => t.find('[data-test="step-agent"]').text())).toEqual(['· by Researcher', '· by Writer']);
    expect(tasks[0]!.find('[data-test="step-facts"]').text()).toBe('2 model rounds · 120 + 30 tokens · 2.50 s');
    expect(tasks[0]!.find('[data-test="step-answer"]').text()).toBe('Otters hold hands.');
    expect(tasks[0]!.findAll('[data-test="tool-call"]').map((c) => c.find('summary').text())).toEqual(['http-request ✓ · 120 ms']);
    expect(tasks[0]!.find('[data-test="assignment-text"]').text()).toBe('to researcher: Three facts, with sources.');
    expect(tasks[0]!.find('[data-test="delegation-text"]').text()).toBe('Asked: Why do otters hold hands?');
    expect(tasks[0]!.find('[data-test="review-text"]').text()).toBe('Changes asked: Add a source.');
    expect(tasks[1]!.text()).toContain('Given: Output of task "research" (Researcher)');
    // The tasks are shown from the steps: the output's crew cards are not shown a second time.
    expect(wrapper.find('[data-test="crew-result"]').exists()).toBe(false);
  });

  it('re-runs from a task through the runtime and opens the new run', async () => {
    const api = fakeApi({
      [`POST /runs/${RUN}/invocations/${CREW}/rerun`]: { status: 202, body: { runId: 'run-2', status: 'accepted', reused: ['plan', 'task:research'] } },
      'GET /runs/run-2': { body: { ...run, id: 'run-2', status: 'running', finishedAt: null, invocations: [] } },
    });
    useRunsStore().current = run;
    const wrapper = mount(RunDetail);
    await wrapper.findAll('[data-test="rerun-from-step"]')[1]!.trigger('click');
    await flushPromises();
    expect(api.calls.map((c) => [`${c.method} ${c.path}`, c.body])).toEqual([
      [`POST /runs/${RUN}/invocations/${CREW}/rerun`, { fromStep: 'task:write' }],
      ['GET /runs/run-2', undefined],
    ]);
    expect(useRunsStore().current?.id).toBe('run-2');
    expect(useNoticesStore().notices.map((n) => [n.kind, n.text, n.detail])).toEqual([['success', 'Run started again from write', 'run run-2: reused research and 1 other step']]);
  });

  it('says why the runtime refused (no run:start), and stays on the run', async () => {
    fakeApi({ [`POST /runs/${RUN}/invocations/${CREW}/rerun`]: { status: 403, body: { title: 'Forbidden', status: 403, detail: 'run:start is needed in project "alpha"' } } });
    useRunsStore().current = run;
    const wrapper = mount(RunDetail);
    await wrapper.find('[data-test="rerun-from-step"]').trigger('click');
    await flushPromises();
    expect(useRunsStore().current?.id).toBe(RUN);
    expect(useNoticesStore().notices.map((n) => [n.kind, n.text, n.detail])).toEqual([['error', 'Could not re-run from this task', 'Forbidden: run:start is needed in project "alpha"']]);
    expect(wrapper.find('[data-test="rerun-from-step"]').attributes('disabled')).toBeUndefined();
  });

  it('marks steps a re-run reused from an earlier run', () => {
    const copied = step('task:research', 'task', 2, { task: 'research', agent: 'Researcher', output: 'Otters hold hands.', iterations: 2, toolCalls: [], notes: [] }, { copiedFrom: { runId: 'run-00000000', invocationId: CREW } });
    useRunsStore().current = { ...run, invocations: [invocations[1]!, copied] };
    const wrapper = mount(RunDetail);
    expect(wrapper.find('[data-test="step-reused"]').text()).toBe('Reused from run 00000000: not run again here.');
  });
});
