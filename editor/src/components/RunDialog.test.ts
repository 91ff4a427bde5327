import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { FlowView, NodeTypeInfo } from '../api/types';
import { useFlowsStore } from '../stores/flows';
import { useNodeTypesStore } from '../stores/nodeTypes';
import { fakeApi } from '../test/fake-api';
import { flowView, nodeTypes } from '../test/fixtures';
import RunDialog from './RunDialog.vue';

const injectType = { ...nodeTypes[0]!, type: 'inject', label: 'inject', role: { kind: 'manual-entry' }, props: { type: 'object', properties: {} } } as NodeTypeInfo;
const injectFlow = (): FlowView =>
  flowView({
    nodes: [
      { id: 'tick', type: 'inject', name: 'Tick', position: { x: 0, y: 0 }, props: { payload: '{"n":6}', payloadType: 'json' }, wires: [['work']] },
      { id: 'work', type: 'function', name: 'Work', position: { x: 200, y: 0 }, props: { func: 'return msg;' }, wires: [['show']] },
      { id: 'show', type: 'debug', name: 'Show', position: { x: 400, y: 0 }, props: {}, wires: [] },
    ],
  });

let api: ReturnType<typeof fakeApi>;
async function open(view: FlowView) {
  api = fakeApi({
    'GET /node-types': { body: [...nodeTypes, injectType] },
    'GET /flows/orders': { body: view },
    'POST /flows/orders/runs': { status: 202, body: { runId: 'r1', status: 'accepted' } },
  });
  await useNodeTypesStore().load();
  await useFlowsStore().openFlow('orders');
}

beforeEach(() => {
  setActivePinia(createPinia());
  vi.unstubAllGlobals();
  localStorage.clear();
});

describe('RunDialog', () => {
  it('starts at the inject with nothing pre-filled, so the inject sends its own payload', async () => {
    await open(injectFlow());
    useFlowsStore().select(['work']); // the selection does not decide where the run starts
    const wrapper = mount(RunDialog);
    expect((wrapper.find('[data-test="run-entry-tick"]').element as HTMLInputElement).checked).toBe(true);
    expect((wrapper.find('[data-test="run-input"]').element as HTMLTextAreaElement).value).toBe('');
    expect(wrapper.find('[data-test="run-input"]').attributes('placeholder')).toContain('the inject sends its own payload');
    await wrapper.find('[data-test="run-start"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /flows/orders/runs')[0]!.body).toEqual({ input: {}, nodeId: 'tick' });
    expect(wrapper.emitted('started')![0]).toEqual(['r1']);
  });

  it('sends a typed message instead when the user types one', async () => {
    await open(injectFlow());
    const wrapper = mount(RunDialog);
    await wrapper.find('[data-test="run-input"]').setValue('{"payload": 42}');
    await wrapper.find('[data-test="run-start"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /flows/orders/runs')[0]!.body).toEqual({ input: { payload: 42 }, nodeId: 'tick' });
  });

  it('in a flow with no trigger, runs from where the flow begins unless another node is picked', async () => {
    // Listed out of order: the start is the node nothing is wired into, not the first one listed.
    await open(flowView({
      nodes: [
        { id: 'show', type: 'debug', name: 'Show', position: { x: 400, y: 0 }, props: {}, wires: [] },
        { id: 'work', type: 'function', name: 'Work', position: { x: 200, y: 0 }, props: { func: 'return msg;' }, wires: [['show']] },
      ],
    }));
    const wrapper = mount(RunDialog);
    expect(wrapper.text()).toContain('This flow has no trigger');
    expect((wrapper.find('[data-test="run-entry-node"]').element as HTMLInputElement).checked).toBe(true);
    expect((wrapper.find('[data-test="run-node"]').element as HTMLSelectElement).value).toBe('work');
    await wrapper.find('[data-test="run-input"]').setValue('{"payload": 2}');
    await wrapper.find('[data-test="run-start"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /flows/orders/runs')[0]!.body).toEqual({ input: { payload: 2 }, nodeId: 'work' });
  });

  it('runs from another node only when asked, and only with an input', async () => {
    await open(injectFlow());
    useFlowsStore().select(['work']);
    const wrapper = mount(RunDialog);
    await wrapper.find('[data-test="run-entry-node"]').setValue(true);
    expect((wrapper.find('[data-test="run-node"]').element as HTMLSelectElement).value).toBe('work');
    await wrapper.find('[data-test="run-start"]').trigger('click');
    expect(wrapper.find('[role="alert"]').text()).toContain('Type the message this node receives');
    expect(api.called('POST /flows/orders/runs')).toHaveLength(0);
    await wrapper.find('[data-test="run-input"]').setValue('{"payload": {"n": 1}}');
    await wrapper.find('[data-test="run-start"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /flows/orders/runs')[0]!.body).toEqual({ input: { payload: { n: 1 } }, nodeId: 'work' });
  });

  it('calls a webhook flow through its webhook, with the typed body, and shows the answer', async () => {
    await open(flowView({ deployed: true, deployedVersion: 1 }));
    const wrapper = mount(RunDialog);
    expect((wrapper.find('[data-test="run-entry-in"]').element as HTMLInputElement).checked).toBe(true);
    expect(wrapper.find('[data-test="run-webhook-url"]').text()).toMatch(/\/webhook\/orders$/);
    const calls: Array<{ url: string; init: RequestInit }> = [];
    vi.stubGlobal('fetch', async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return new Response('{"accepted":true}', { status: 200 });
    });
    await wrapper.find('[data-test="run-input"]').setValue('{"id": 7}');
    await wrapper.find('[data-test="run-start"]').trigger('click');
    await flushPromises();
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ url: '/webhook/orders', init: { method: 'POST', body: '{"id":7}' } });
    expect(wrapper.find('[data-test="run-webhook-answer"]').text()).toContain('HTTP 200');
  });
});
