/**
 * The versions panel over the runtime's version routes (their real behaviour is tested against a running server in
 * runtime/src/versions/versions-api.test.ts; these answers have the same shape).
 */
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../../test/fake-api';
import { useDiffMarks } from './diff-marks';
import VersionsPanel from './VersionsPanel.vue';

const versions = {
  flowId: 'orders',
  current: 2,
  deployed: { version: 1, by: 'ed', at: 1_700_000_000_000 },
  versions: [
    { flowId: 'orders', version: 2, name: 'Orders', createdAt: 1_700_000_100_000, createdBy: 'ed', note: null, contentHash: 'b', current: true, deployed: false },
    { flowId: 'orders', version: 1, name: 'Orders', createdAt: 1_700_000_000_000, createdBy: 'ann', note: 'restored from version 0', contentHash: 'a', current: false, deployed: true },
  ],
};
const diff = {
  flowId: 'orders',
  from: 1,
  to: 2,
  diff: {
    flow: [],
    added: [{ id: 'log', type: 'debug' }],
    removed: [{ id: 'out', type: 'debug', name: 'Old output', position: { x: 400, y: 120 } }],
    changed: [{ id: 'call', type: 'http-request', changes: [{ path: '/props/url', before: 'http://a', after: 'http://b' }] }],
    moved: [],
    wires: { added: [{ from: 'call', port: 0, to: 'log' }], removed: [{ from: 'call', port: 0, to: 'out' }] },
    same: false,
  },
};

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => vi.unstubAllGlobals());

describe('VersionsPanel', () => {
  it('lists versions with author, current and deployed markers, and who deployed', async () => {
    fakeApi({ 'GET /flows/orders/versions': { body: versions } });
    const wrapper = mount(VersionsPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    expect(wrapper.find('[data-test="deployed-by"]').text()).toContain('Deployed: v1 by ed');
    expect(wrapper.find('[data-test="version-2"]').text()).toContain('current');
    expect(wrapper.find('[data-test="version-1"]').text()).toMatch(/deployed.*ann.*restored from version 0/s);
  });

  it('shows the diff between two versions: nodes, property changes and wires', async () => {
    const api = fakeApi({ 'GET /flows/orders/versions': { body: versions }, 'GET /flows/orders/diff': { body: diff } });
    const wrapper = mount(VersionsPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    await wrapper.find('[data-test="compare"]').trigger('click');
    await flushPromises();
    const call = api.called('GET /flows/orders/diff')[0]!;
    expect([call.query.get('from'), call.query.get('to')]).toEqual(['1', '2']);
    const text = wrapper.find('[data-test="diff"]').text();
    expect(text).toContain('+ log (debug)');
    expect(text).toContain('− Old output (debug)');
    expect(text).toContain('/props/url: "http://a" → "http://b"');
    expect(text).toContain('+ wire call[0] → log');
    // The newer side is the current version, which the canvas shows: its added and changed nodes are framed there.
    expect(useDiffMarks().of('orders')).toEqual({ log: 'added', call: 'changed' });
    expect(useDiffMarks().of('other')).toEqual({});
    // Its removed nodes are drawn as ghosts where they stood in the older version.
    expect(useDiffMarks().removedOf('orders')).toEqual([{ id: 'out', label: 'Old output', x: 400, y: 120 }]);
    expect(useDiffMarks().removedOf('other')).toEqual([]);
    // And its removed wires, from the port they left to the input they fed.
    expect(useDiffMarks().removedWiresOf('orders')).toEqual([{ from: 'call', port: 0, to: 'out' }]);
    expect(useDiffMarks().removedWiresOf('other')).toEqual([]);
    wrapper.unmount();
    expect(useDiffMarks().of('orders')).toEqual({});
    expect(useDiffMarks().removedOf('orders')).toEqual([]);
    expect(useDiffMarks().removedWiresOf('orders')).toEqual([]);
  });

  it('restores after confirmation and tells the editor to reload the flow', async () => {
    const api = fakeApi({ 'GET /flows/orders/versions': { body: versions }, 'POST /flows/orders/versions/1/restore': { body: { id: 'orders', version: 3 } } });
    vi.stubGlobal('confirm', () => true);
    const wrapper = mount(VersionsPanel, { props: { flowId: 'orders' } });
    await flushPromises();
    await wrapper.find('[data-test="version-1"] button').trigger('click');
    await flushPromises();
    expect(api.called('POST /flows/orders/versions/1/restore')).toHaveLength(1);
    expect(wrapper.emitted('restored')).toEqual([['orders']]);
  });
});
