import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useCredentialsStore } from '../stores/credentials';
import { useFlowsStore } from '../stores/flows';
import { useNodeTypesStore } from '../stores/nodeTypes';
import { fakeApi } from '../test/fake-api';
import { flowView, nodeTypes } from '../test/fixtures';
import PropertyPanel from './PropertyPanel.vue';

describe('PropertyPanel', () => {
  beforeEach(async () => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    localStorage.clear();
    fakeApi({
      'GET /node-types': { body: nodeTypes },
      'GET /flows/orders': { body: flowView() },
      'GET /credentials': { body: [{ id: 'c1', name: 'CRM login', type: 'http-auth', fields: ['user', 'password'], createdAt: 1, updatedAt: 1 }, { id: 'c2', name: 'Other', type: 'smtp', fields: [], createdAt: 1, updatedAt: 1 }] },
    });
    await Promise.all([useNodeTypesStore().load(), useCredentialsStore().load()]);
    await useFlowsStore().openFlow('orders');
    useFlowsStore().markDrawn('orders'); // what the canvas does after the flow's first frame: problems are worked out
  });

  it('edits the selected node through its schema form, flagging invalid values at once', async () => {
    const flows = useFlowsStore();
    flows.select(['in']);
    const wrapper = mount(PropertyPanel);
    expect(wrapper.find('h2').text()).toBe('webhook');
    await wrapper.find('[data-test="field-/url"]').setValue('orders');
    expect(flows.node('in')!.props!.url).toBe('orders');
    expect(wrapper.find('[data-test="error-/url"]').text()).toBe('URL must match pattern "^/"');
    await wrapper.find('[data-test="node-name"]').setValue('Order intake');
    expect(flows.node('in')!.name).toBe('Order intake');
  });

  it('offers the stored credentials of the node’s credential type, and requires one when the type does', async () => {
    const flows = useFlowsStore();
    const id = flows.addNode('http-request', { x: 0, y: 0 })!;
    expect(flows.node(id)!.credentials).toBe('c1'); // the only one of its type is picked
    flows.updateNode(id, (n) => delete n.credentials);
    const wrapper = mount(PropertyPanel);
    await flushPromises();
    const select = wrapper.find('[data-test="node-credential"]');
    expect(select.findAll('option').map((o) => o.text())).toEqual(['— none —', 'CRM login']);
    expect(wrapper.find('[data-test="node-issues"]').text()).toContain('needs a stored "http-auth" credential');
    await select.setValue('c1');
    expect(flows.node(id)!.credentials).toBe('c1');
    expect(wrapper.find('[data-test="node-issues"]').exists()).toBe(false);
  });

  it('shows the flow’s own settings when no node is selected', async () => {
    const wrapper = mount(PropertyPanel);
    expect(wrapper.find('h2').text()).toBe('Flow');
    await wrapper.find('[data-test="field-/name"]').setValue('Orders (EU)');
    expect(useFlowsStore().active!.doc.name).toBe('Orders (EU)');
    await wrapper.find('[data-test="field-/name"]').setValue('');
    expect(wrapper.text()).toContain('must not be empty');
  });
});
