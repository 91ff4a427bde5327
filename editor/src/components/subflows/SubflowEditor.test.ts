/**
 * Editing a library sub-flow in place and publishing the next version (the runtime's publish checks and versioning
 * are tested on a real runtime in runtime/src/subflows/subflows-api.test.ts; these answers have the same shape).
 */
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../../test/fake-api';
import SubflowInfo from './SubflowInfo.vue';

const nodes = [{ id: 'in', type: 'subflow-in', wires: [['calc']] }, { id: 'calc', type: 'change', props: { rules: [] }, wires: [['out']] }, { id: 'out', type: 'subflow-out' }];
const version = (v: number, name = 'Add VAT') => ({ definition: { id: 'vat', version: v, name, input: { type: 'object' }, nodes }, projectId: 'default', createdAt: 1, createdBy: 'ed' });

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => vi.unstubAllGlobals());

describe('SubflowEditor (in SubflowInfo)', () => {
  it('publishes the edited definition as the next version, then offers this node the upgrade', async () => {
    const api = fakeApi({
      'GET /subflows/vat': { body: version(1) },
      'POST /subflows': (req) => ({ status: 201, body: { ...version(2), definition: { ...(req.body as object), version: 2 } } }),
    });
    const wrapper = mount(SubflowInfo, { props: { type: 'subflow:vat', version: 1 } });
    await flushPromises();
    expect(wrapper.find('[data-test="subflow-upgrade"]').exists()).toBe(false);
    await wrapper.find('[data-test="subflow-edit"]').trigger('click');
    const editor = wrapper.find('[data-test="subflow-editor"]');
    await editor.find('input[aria-label="Sub-flow name"]').setValue('Add VAT (20 %)');
    await editor.find('textarea[aria-label="output schema"]').setValue('{"type": "object", "required": ["payload"]}');
    await editor.trigger('submit');
    await flushPromises();
    const sent = api.called('POST /subflows')[0]!.body as Record<string, unknown>;
    expect(sent).toEqual({ id: 'vat', name: 'Add VAT (20 %)', input: { type: 'object' }, output: { type: 'object', required: ['payload'] }, nodes });
    expect(wrapper.find('[data-test="subflow-published"]').text()).toBe('Published v2.');
    await wrapper.find('[data-test="subflow-upgrade"]').trigger('click');
    expect(wrapper.emitted('upgrade')).toEqual([[2]]);
  });

  it('shows JSON mistakes before sending and the runtime\'s problems with their pointers', async () => {
    const api = fakeApi({
      'GET /subflows/vat': { body: version(1) },
      'POST /subflows': { status: 422, body: { title: 'Invalid sub-flow', status: 422, detail: 'the sub-flow definition has 1 problem(s)', errors: [{ pointer: '/nodes/1/type', message: 'unknown node type "chnage"' }] } },
    });
    const wrapper = mount(SubflowInfo, { props: { type: 'subflow:vat', version: 1 } });
    await flushPromises();
    await wrapper.find('[data-test="subflow-edit"]').trigger('click');
    const editor = wrapper.find('[data-test="subflow-editor"]');
    await editor.find('textarea[aria-label="Inner nodes"]').setValue('[{');
    await editor.trigger('submit');
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toContain('inner nodes is not valid JSON');
    expect(api.called('POST /subflows')).toHaveLength(0);
    await editor.find('textarea[aria-label="Inner nodes"]').setValue(JSON.stringify(nodes).replace('"change"', '"chnage"'));
    await editor.trigger('submit');
    await flushPromises();
    expect(wrapper.find('[data-test="subflow-problems"]').text()).toContain('/nodes/1/type unknown node type "chnage"');
  });
});
