/**
 * The Git panel over the runtime's Git routes (tested against a real SSH Git server in runtime/src/git/git.test.ts;
 * these answers have the same shape).
 */
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useAuthStore } from '../../stores/auth';
import { fakeApi } from '../../test/fake-api';
import GitPanel from './GitPanel.vue';

const link = { projectId: 'shop', url: 'ssh://git@example/shop.git', branch: 'prod', environment: 'prod', credentialId: 'k', knownHosts: null, credentialBindings: {}, lastCommit: 'abcdef0123456789', updatedAt: 1 };
const flow = { 'GET /flows/orders': { body: { id: 'orders', projectId: 'shop', nodes: [] } } };
const nameChange = (after: string) => ({ flow: [{ path: '/name', before: 'Orders', after }], added: [], removed: [], changed: [], moved: [], wires: { added: [], removed: [] }, same: false });

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => vi.unstubAllGlobals());

describe('GitPanel', () => {
  it('says when the project is not linked', async () => {
    fakeApi({ ...flow, 'GET /projects/shop/git': { status: 404, body: { title: 'Not linked', status: 404 } } });
    const wrapper = mount(GitPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    expect(wrapper.text()).toContain('not linked to a Git repository');
  });

  it('links an unlinked project with a git credential of the project and the credential bindings', async () => {
    const api = fakeApi({
      ...flow,
      'GET /projects/shop/git': { status: 404, body: { title: 'Not linked', status: 404 } },
      'GET /credentials': { body: [{ id: 'key1', name: 'deploy key', type: 'git-ssh', fields: ['privateKey'], projectId: 'shop', createdAt: 1, updatedAt: 1 }, { id: 'crm1', name: 'crm', type: 'http-auth', fields: ['token'], projectId: 'shop', createdAt: 1, updatedAt: 1 }] },
      'PUT /projects/shop/git': (req) => ({ body: { ...link, ...(req.body as object) } }),
    });
    const wrapper = mount(GitPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    await wrapper.find('[data-test="git-link-edit"]').trigger('click');
    await flushPromises();
    const form = wrapper.find('[data-test="git-link-form"]');
    expect(form.findAll('option').map((o) => o.text())).toEqual(['none (public repository)', 'deploy key (git-ssh)']);
    await form.find('input').setValue('ssh://git@example/shop.git');
    await form.find('select').setValue('key1');
    await form.findAll('textarea')[1]!.setValue('{"crm": "crm1"}');
    await form.trigger('submit');
    await flushPromises();
    expect(api.called('PUT /projects/shop/git')[0]!.body).toEqual({ url: 'ssh://git@example/shop.git', branch: 'main', credentialId: 'key1', credentialBindings: { crm: 'crm1' } });
    expect(wrapper.find('[data-test="git-link"]').text()).toContain('branch main');
  });

  it('pulls with deploy when asked and reports what changed', async () => {
    const api = fakeApi({ ...flow, 'GET /projects/shop/git': { body: link }, 'POST /projects/shop/git/pull': { body: { commit: '0123456789ab', flows: ['orders'], deleted: [], deployed: ['orders'] } } });
    const wrapper = mount(GitPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    expect(wrapper.find('[data-test="git-link"]').text()).toContain('branch prod');
    await wrapper.find('input[type="checkbox"]').setValue(true);
    await wrapper.find('[data-test="git-pull"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /projects/shop/git/pull')[0]!.body).toEqual({ deploy: true });
    expect(wrapper.text()).toContain('pull: 1 flow(s) updated, 1 deployed (commit 0123456789)');
    expect(wrapper.emitted('pulled')).toHaveLength(1);
  });

  it('shows a conflict as what each side changed in the flow', async () => {
    fakeApi({
      ...flow,
      'GET /projects/shop/git': { body: link },
      'POST /projects/shop/git/promote': {
        status: 409,
        body: { title: 'Merge conflict', status: 409, detail: 'promoting "dev" into "prod" conflicts in flow "orders"', conflicts: [{ file: 'flows/orders.json', flowId: 'orders', ours: nameChange('Orders (hotfix)'), theirs: nameChange('Orders v2') }] },
      },
    });
    const wrapper = mount(GitPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    await wrapper.find('input[aria-label="Promote from branch"]').setValue('dev');
    await wrapper.find('[data-test="git-promote"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[role="alert"]').text()).toContain('conflicts in flow "orders"');
    const conflict = wrapper.find('[data-test="git-conflict"]').text();
    expect(conflict).toContain('/name: "Orders" → "Orders (hotfix)"');
    expect(conflict).toContain('/name: "Orders" → "Orders v2"');
  });

  it('offers promotion to instance admins only (a member is told it is an admin action)', async () => {
    fakeApi({ ...flow, 'GET /projects/shop/git': { body: link } });
    useAuthStore().user = { username: 'ed', name: 'ed', via: 'password', instanceRole: 'member' };
    const wrapper = mount(GitPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    await wrapper.find('input[aria-label="Promote from branch"]').setValue('dev');
    expect(wrapper.find('[data-test="git-promote"]').attributes('disabled')).toBeDefined();
    expect(wrapper.find('[data-test="git-promote-admin"]').text()).toContain('admin action');
    expect(wrapper.find('[data-test="git-pull"]').attributes('disabled')).toBeUndefined();
  });
});
