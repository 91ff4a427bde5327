/** In a library sub-flow's tab the palette offers no triggers nor the sub-flow itself, and Runs says where its runs are. */
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { NodeTypeInfo } from '../../api/types';
import { useFlowsStore } from '../../stores/flows';
import { useNodeTypesStore } from '../../stores/nodeTypes';
import { fakeApi } from '../../test/fake-api';
import { functionType, nodeTypes } from '../../test/fixtures';
import Palette from '../Palette.vue';
import RunHistory from '../RunHistory.vue';
import { adoptVersion } from './subflow-tab';
import { startsRuns } from './subflow-palette';

// Types by role and shape only: names no core type has, so nothing is recognised by name.
const typeOf = (type: string, extra: Partial<NodeTypeInfo>): NodeTypeInfo => ({ ...functionType, type, label: type, ...extra });
const button = typeOf('acme-button', { category: 'trigger', inputs: 0, role: { kind: 'manual-entry' } });
const clock = typeOf('acme-clock', { category: 'trigger', inputs: 0 });
const hook = typeOf('acme-hook', { category: 'network', inputs: 0, role: { kind: 'http-entry', methodProp: 'm', pathProp: 'p' } });
const entry = typeOf('acme-entry', { category: 'trigger', inputs: 0, role: { kind: 'subflow-entry' } });
const onError = typeOf('acme-catch', { category: 'trigger', inputs: 0, role: { kind: 'error-handler', scope: { whenUnset: 'all' } } });
const vat = typeOf('subflow:vat', { category: 'flow', inputs: 1, label: 'Add VAT' });
const fees = typeOf('subflow:fees', { category: 'flow', inputs: 1, label: 'Fees' });

const vatTab = () =>
  adoptVersion({ definition: { id: 'vat', version: 3, name: 'Add VAT', nodes: [{ id: 'in', type: 'acme-entry', wires: [] }] }, projectId: 'default', createdAt: 1, createdBy: 'ed' });

beforeEach(() => {
  setActivePinia(createPinia());
  vi.unstubAllGlobals();
});

describe('startsRuns', () => {
  it('is true for manual and HTTP entries and for input-less triggers no runtime event drives', () => {
    expect([button, clock, hook].map(startsRuns)).toEqual([true, true, true]);
    // The sub-flow's entry and event handlers (catch, status, complete) belong in a sub-flow.
    expect([entry, onError, vat, functionType].map(startsRuns)).toEqual([false, false, false, false]);
  });
});

describe('the palette and Runs tab in a sub-flow tab', () => {
  const palette = () => mount(Palette).findAll('.palette-node').map((n) => n.text());

  beforeEach(async () => {
    fakeApi({ 'GET /node-types': { body: [...nodeTypes, button, clock, hook, entry, onError, vat, fees] } });
    await useNodeTypesStore().load();
  });

  it('offers no trigger nor the sub-flow itself; other sub-flows and handlers stay; a flow tab offers all', () => {
    useFlowsStore().openWorkingCopy(vatTab());
    const inSubflow = palette();
    for (const hidden of ['acme-button', 'acme-clock', 'acme-hook', 'Add VAT', 'webhook']) expect(inSubflow).not.toContain(hidden);
    for (const kept of ['acme-entry', 'acme-catch', 'Fees', 'function', 'debug']) expect(inSubflow).toContain(kept);
    useFlowsStore().activate(null);
    expect(palette()).toEqual(expect.arrayContaining(['acme-button', 'acme-clock', 'acme-hook', 'Add VAT', 'webhook']));
  });

  it('Runs says the runs are in the flows that use it, and asks the runtime for none', async () => {
    const api = fakeApi({});
    useFlowsStore().openWorkingCopy(vatTab());
    const wrapper = mount(RunHistory);
    await flushPromises();
    expect(wrapper.find('[data-test="runs-subflow"]').text()).toBe('A sub-flow does not run on its own: its runs are shown in the flows that use it. Open one of those flows to see them.');
    expect(wrapper.find('[data-test="run-row"]').exists()).toBe(false);
    expect(wrapper.text()).not.toContain('No runs yet');
    expect(api.calls).toEqual([]);
  });
});
