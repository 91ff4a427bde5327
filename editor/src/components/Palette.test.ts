import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { NODE_TYPE_MIME } from '../lib/dnd';
import { useAuthStore } from '../stores/auth';
import { useNodeTypesStore } from '../stores/nodeTypes';
import { fakeApi } from '../test/fake-api';
import { nodeTypes } from '../test/fixtures';
import Palette from './Palette.vue';

describe('Palette', () => {
  beforeEach(async () => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    fakeApi({ 'GET /node-types': { body: nodeTypes } });
    await useNodeTypesStore().load();
  });

  it('lists every node type grouped by category, in flow order', () => {
    const wrapper = mount(Palette);
    const groups = wrapper.findAll('.group').map((g) => [g.find('.group-title').text().replace(/\s+/g, ' '), g.findAll('.palette-node').map((n) => n.text())]);
    expect(groups).toEqual([
      ['▾ Triggers 1', ['webhook']],
      ['▾ Flow control 1', ['switch']],
      ['▾ Function 1', ['function']],
      ['▾ Network 1', ['http request']],
      ['▾ Output 1', ['debug']],
    ]);
  });

  it('filters by search text, and says when nothing matches', async () => {
    const wrapper = mount(Palette);
    await wrapper.find('[data-test="palette-search"]').setValue('http');
    // Still grouped by category; webhook matches through its help ("An HTTP endpoint").
    expect(wrapper.findAll('.palette-node').map((n) => n.text())).toEqual(['webhook', 'http request']);
    await wrapper.find('[data-test="palette-search"]').setValue('zzz');
    expect(wrapper.text()).toContain('No node matches "zzz".');
  });

  it('puts the node type on the drag, for the canvas to drop', async () => {
    const wrapper = mount(Palette);
    const data = new Map<string, string>();
    const dataTransfer = { setData: (k: string, v: string) => data.set(k, v), effectAllowed: '' };
    await wrapper.find('[data-test="palette-node-switch"]').trigger('dragstart', { dataTransfer });
    expect(data.get(NODE_TYPE_MIME)).toBe('switch');
  });

  it('asks for help on click and adds on Enter', async () => {
    const wrapper = mount(Palette);
    await wrapper.find('[data-test="palette-node-debug"]').trigger('click');
    await wrapper.find('[data-test="palette-node-debug"]').trigger('keydown', { key: 'Enter' });
    expect(wrapper.emitted('help')).toEqual([['debug']]);
    expect(wrapper.emitted('add')).toEqual([['debug']]);
  });

  it('offers "Manage palette" to instance admins only: installing code is an admin action (issue 14)', async () => {
    const auth = useAuthStore();
    auth.user = { username: 'ed', name: 'ed', via: 'password', instanceRole: 'member' };
    expect(mount(Palette).find('[data-test="palette-manage"]').exists()).toBe(false);
    auth.user = { username: 'ann', name: 'ann', via: 'password', instanceRole: 'admin' };
    expect(mount(Palette).find('[data-test="palette-manage"]').exists()).toBe(true);
  });
});
