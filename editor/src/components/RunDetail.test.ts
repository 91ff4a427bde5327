import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
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
});
