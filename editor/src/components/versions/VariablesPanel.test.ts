/**
 * The variables panel over the runtime's variable routes (what flows read from them is tested on a real runtime in
 * runtime/src/variables/variables.test.ts and runtime/src/git/environments.test.ts; these answers have the same shape).
 */
import { flushPromises, mount } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../../test/fake-api';
import VariablesPanel from './VariablesPanel.vue';

const flow = { 'GET /flows/orders': { body: { id: 'orders', projectId: 'shop', nodes: [] } } };
const plain = { name: 'API_URL', secret: false, value: 'https://api.dev.example', description: null, updatedAt: 1, updatedBy: 'ada' };
const secret = { name: 'API_KEY', secret: true, value: null, description: null, updatedAt: 1, updatedBy: 'ada' };

afterEach(() => vi.unstubAllGlobals());

describe('VariablesPanel', () => {
  it('lists plain values and never a secret one', async () => {
    fakeApi({ ...flow, 'GET /projects/shop/variables': { body: [secret, plain] } });
    const wrapper = mount(VariablesPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    expect(wrapper.find('[data-test="variable-API_URL"]').text()).toContain('https://api.dev.example');
    expect(wrapper.find('[data-test="variable-API_KEY"]').text()).toContain('secret (in the vault)');
  });

  it('sets a secret variable and says it applies at the next deploy', async () => {
    const api = fakeApi({ ...flow, 'GET /projects/shop/variables': { body: [] }, 'PUT /projects/shop/variables/API_KEY': { body: secret } });
    const wrapper = mount(VariablesPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    const form = wrapper.find('[data-test="variable-form"]');
    await form.find('input[aria-label="Variable name"]').setValue('API_KEY');
    await form.find('[data-test="variable-secret"]').setValue(true);
    expect(form.find('input[aria-label="Variable value"]').attributes('type')).toBe('password');
    await form.find('input[aria-label="Variable value"]').setValue('sk-123456');
    await form.trigger('submit');
    await flushPromises();
    expect(api.called('PUT /projects/shop/variables/API_KEY')[0]!.body).toEqual({ value: 'sk-123456', secret: true });
    expect(wrapper.find('[role="status"]').text()).toContain('deploy the flows again');
  });

  it('shows the runtime\'s refusal (a bad name, a missing permission)', async () => {
    fakeApi({
      ...flow,
      'GET /projects/shop/variables': { body: [plain] },
      'DELETE /projects/shop/variables/API_URL': { status: 403, body: { title: 'Forbidden', status: 403, detail: 'this needs the flow:write permission in project "shop"' } },
    });
    const wrapper = mount(VariablesPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    await wrapper.find('[data-test="variable-delete-API_URL"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toContain('flow:write');
  });
});
