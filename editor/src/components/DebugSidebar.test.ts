import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useDebugStore } from '../stores/debug';
import { useFlowsStore } from '../stores/flows';
import { useNodeTypesStore } from '../stores/nodeTypes';
import { fakeApi } from '../test/fake-api';
import { flowView, nodeTypes } from '../test/fixtures';
import DebugSidebar from './DebugSidebar.vue';

describe('DebugSidebar', () => {
  beforeEach(async () => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    localStorage.clear();
    fakeApi({ 'GET /node-types': { body: nodeTypes }, 'GET /flows/orders': { body: flowView() } });
    await useNodeTypesStore().load();
    await useFlowsStore().openFlow('orders');
    const debug = useDebugStore();
    debug.add({ kind: 'debug', at: 1, flowId: 'orders', runId: 'r1', nodeId: 'show', property: 'payload', text: '{"total":42}' });
    debug.add({ kind: 'error', at: 2, flowId: 'orders', runId: 'r2', nodeId: 'in', text: 'request body is not JSON' });
    debug.add({ kind: 'debug', at: 3, flowId: 'other', runId: 'r3', nodeId: 'x', text: '"elsewhere"' });
    debug.add({ kind: 'debug', at: 4, flowId: 'orders', runId: 'r4', nodeId: 'show', text: '{"cut":', truncated: true });
  });

  it('lists the active flow’s messages, newest first, with node names and pretty JSON', () => {
    const wrapper = mount(DebugSidebar);
    const entries = wrapper.findAll('[data-test="debug-entry"]');
    expect(entries).toHaveLength(3);
    expect(entries[0]!.find('pre').text()).toBe('{"cut": …');
    expect(entries[1]!.text()).toContain('POST /orders');
    expect(entries[1]!.classes()).toContain('error');
    expect(entries[2]!.find('pre').text()).toBe('{\n  "total": 42\n}');
    expect(entries[2]!.text()).toContain('msg.payload');
  });

  it('filters by node and by errors', async () => {
    const wrapper = mount(DebugSidebar);
    const options = wrapper.find('[data-test="debug-filter"]').findAll('option').map((o) => o.text());
    expect(options).toEqual(['All nodes', 'POST /orders', 'Show', 'x']);
    await wrapper.find('[data-test="debug-filter"]').setValue('show');
    expect(wrapper.findAll('[data-test="debug-entry"]')).toHaveLength(2);
    await wrapper.find('[data-test="debug-filter"]').setValue('');
    await wrapper.findAll('input[type="checkbox"]')[0]!.setValue(true);
    expect(wrapper.findAll('[data-test="debug-entry"]').map((e) => e.find('pre').text())).toEqual(['request body is not JSON']);
  });

  it('selects the node of an entry on click', async () => {
    const wrapper = mount(DebugSidebar);
    await wrapper.findAll('[data-test="debug-entry"]')[2]!.find('button.link').trigger('click');
    expect(useFlowsStore().selection).toEqual(['show']);
  });
});
