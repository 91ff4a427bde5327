import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { useFlowsStore } from '../stores/flows';
import { useNodeTypesStore } from '../stores/nodeTypes';
import { fakeApi } from '../test/fake-api';
import { flowView, nodeTypes } from '../test/fixtures';
import ImportExportDialog from './ImportExportDialog.vue';

describe('ImportExportDialog', () => {
  beforeEach(async () => {
    setActivePinia(createPinia());
    vi.unstubAllGlobals();
    localStorage.clear();
  });

  it('says where malformed JSON is wrong, and sends nothing', async () => {
    const api = fakeApi({});
    const wrapper = mount(ImportExportDialog, { props: { mode: 'import' } });
    await wrapper.find('[data-test="import-text"]').setValue('{\n  "id": "x",\n  "nodes": [,]\n}');
    await wrapper.find('[data-test="import-submit"]').trigger('click');
    expect(wrapper.find('[data-test="import-error"]').text()).toMatch(/^Invalid JSON at line 3, column 13: /);
    expect(api.calls.filter((c) => c.path === '/flows/import')).toHaveLength(0);
  });

  it('imports Node-RED JSON and lists what was not mapped', async () => {
    const api = fakeApi({
      'POST /flows/import': { status: 201, body: { source: 'node-red', flows: [{ id: 'tab1', name: 'From NR', version: 1, deployed: false }], unmapped: [{ id: 's1', type: 'serial out', name: 'port', flowId: 'tab1', reason: 'no Flowcrew equivalent' }], warnings: ['link nodes were joined'] } },
      'GET /flows': { body: [flowView({ id: 'tab1', name: 'From NR' })] },
      'GET /flows/tab1': { body: flowView({ id: 'tab1', name: 'From NR' }) },
      'GET /node-types': { body: nodeTypes },
    });
    await useNodeTypesStore().load();
    const wrapper = mount(ImportExportDialog, { props: { mode: 'import', initialText: '[{"id":"tab1","type":"tab"}]' } });
    await wrapper.find('[data-test="import-submit"]').trigger('click');
    await flushPromises();
    expect(api.called('POST /flows/import')[0]!.body).toEqual([{ id: 'tab1', type: 'tab' }]);
    expect(wrapper.find('[data-test="import-result"]').text()).toContain('Imported 1 flow from Node-RED JSON: From NR');
    expect(wrapper.find('[data-test="import-result"]').text()).toContain('link nodes were joined');
    expect(wrapper.find('[data-test="unmapped"] tbody').text()).toContain('serial out');
    expect(useFlowsStore().tabs).toEqual(['tab1']);
    expect(wrapper.find('[data-test="import-properties"]').exists()).toBe(false);
  });

  it('lists the Node-RED properties the import changed, with what and why', async () => {
    const properties = [{ nodeId: 'd1', type: 'debug', flowId: 'tab1', property: '/console', action: 'translated', from: 'false', to: false, reason: 'a boolean stored as a string' }];
    fakeApi({
      'POST /flows/import': { status: 201, body: { source: 'node-red', flows: [{ id: 'tab1', name: 'From NR', version: 1, deployed: false }], unmapped: [], warnings: [], properties } },
      'GET /flows': { body: [flowView({ id: 'tab1', name: 'From NR' })] },
      'GET /flows/tab1': { body: flowView({ id: 'tab1', name: 'From NR' }) },
      'GET /node-types': { body: nodeTypes },
    });
    await useNodeTypesStore().load();
    const wrapper = mount(ImportExportDialog, { props: { mode: 'import', initialText: '[{"id":"tab1","type":"tab"}]' } });
    await wrapper.find('[data-test="import-submit"]').trigger('click');
    await flushPromises();
    const report = wrapper.find('[data-test="import-properties"]');
    expect(report.find('summary').text()).toContain('(1)');
    expect(report.find('tbody').text()).toContain('/console');
    expect(report.find('tbody').text()).toContain('"false" → false');
    expect(report.find('tbody').text()).toContain('a boolean stored as a string');
  });

  it('shows the runtime’s reasons for refusing an import, and offers to replace an existing flow', async () => {
    fakeApi({ 'POST /flows/import': (req) => (req.query.get('replace') ? { status: 201, body: { source: 'flowcrew', flows: [], unmapped: [], warnings: [] } } : { status: 409, body: { title: 'Flow exists', status: 409, detail: 'flow "orders" already exists; import with ?replace=true to overwrite it' } }), 'GET /flows': { body: [] } });
    const wrapper = mount(ImportExportDialog, { props: { mode: 'import', initialText: JSON.stringify(flowView()) } });
    await wrapper.find('[data-test="import-submit"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test="import-error"]').text()).toContain('Flow exists: flow "orders" already exists');
    await wrapper.find('[data-test="import-error"] button').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test="import-result"]').text()).toContain('Imported 0 flows');
  });

  it('exports the open flow as shown, unsaved edits included', async () => {
    fakeApi({ 'GET /node-types': { body: nodeTypes }, 'GET /flows/orders': { body: flowView() }, 'GET /flows': { body: [flowView()] } });
    await useNodeTypesStore().load();
    const flows = useFlowsStore();
    await flows.loadList();
    await flows.openFlow('orders');
    flows.rename('orders', 'Renamed, not saved');
    const wrapper = mount(ImportExportDialog, { props: { mode: 'export' } });
    await flushPromises();
    const exported = JSON.parse((wrapper.find('[data-test="export-text"]').element as HTMLTextAreaElement).value);
    expect(exported).toMatchObject({ format: 'flowcrew/flow@1', id: 'orders', name: 'Renamed, not saved' });
    expect(wrapper.text()).toContain('includes unsaved changes');
  });
});
