/**
 * The tests panel over the runtime's flow test routes (their real behaviour, sandboxes included, is tested against a
 * running server in runtime/src/subflows/subflows-api.test.ts and runtime/src/flowtest/source-api.test.ts; these answers
 * have the same shape).
 */
import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fakeApi } from '../../test/fake-api';
import SubflowInfo from '../subflows/SubflowInfo.vue';
import FlowTestPanel from './FlowTestPanel.vue';
import { useTestMarks } from './test-marks';

const suite = { cases: [{ name: 'adds 10%', input: { node: 'go' } }, { name: 'wrong', input: { node: 'go' } }] };
const result = {
  name: 'invoice',
  flowId: 'invoice',
  flowVersion: 3,
  passed: false,
  durationMs: 40,
  cases: [
    { name: 'adds 10%', passed: true, durationMs: 20, runStatus: 'succeeded', assertions: [{ label: 'tax output [0] match', node: 'tax', passed: true }], nodes: { go: { ran: 1, failed: 0, mocked: false }, tax: { ran: 1, failed: 0, mocked: false, assertions: 'passed' }, out: { ran: 0, failed: 0, mocked: false } } },
    {
      name: 'wrong',
      passed: false,
      durationMs: 20,
      runStatus: 'succeeded',
      assertions: [{ label: 'tax output [0] equals', node: 'tax', passed: false, message: 'expected {"payload":1}, got {"payload":55}' }],
      nodes: { go: { ran: 1, failed: 0, mocked: false }, tax: { ran: 1, failed: 0, mocked: false, assertions: 'failed' }, api: { ran: 1, failed: 0, mocked: true } },
    },
  ],
};

beforeEach(() => setActivePinia(createPinia()));
afterEach(() => vi.unstubAllGlobals());

describe('FlowTestPanel', () => {
  it('loads the saved suite, runs it, lists the cases and marks the first failing one on the canvas', async () => {
    const api = fakeApi({ 'GET /flows/invoice/tests': { body: { flowId: 'invoice', suite: { flow: 'invoice', ...suite }, updatedAt: 1, updatedBy: 'ed' } }, 'POST /flows/invoice/tests/run': { body: result } });
    const wrapper = mount(FlowTestPanel, { props: { flowId: 'invoice' } });
    await flushPromises();
    expect(JSON.parse((wrapper.find('[data-test="flow-tests-suite"]').element as HTMLTextAreaElement).value)).toEqual(suite);
    await wrapper.find('[data-test="flow-tests-run"]').trigger('click');
    await flushPromises();
    // The box's text goes as it is: the runtime parses it (YAML or JSON) with the parser `flowcrew test` uses.
    const sent = api.called('POST /flows/invoice/tests/run')[0]!.body as { source: string };
    expect(Object.keys(sent)).toEqual(['source']);
    expect(JSON.parse(sent.source)).toEqual(suite);
    expect(wrapper.find('[data-test="flow-tests-result"]').text()).toContain('1 of 2 passed');
    expect(wrapper.find('[data-test="flow-test-case-failed"]').text()).toContain('expected {"payload":1}, got {"payload":55}');
    expect(useTestMarks().of('invoice')).toEqual({ go: 'ran', tax: 'failed', api: 'mocked' });
    wrapper.unmount();
    expect(useTestMarks().of('invoice')).toEqual({});
  });

  it('shows the problems of a suite the runtime refuses, by pointer', async () => {
    fakeApi({
      'GET /flows/invoice/tests': { body: { flowId: 'invoice', suite: { flow: 'invoice', cases: [] }, updatedAt: 0, updatedBy: null } },
      'PUT /flows/invoice/tests': { status: 422, body: { title: 'Invalid tests', status: 422, detail: 'the test suite has problems', errors: [{ pointer: '/cases/0/input/node', message: 'is required' }] } },
    });
    const wrapper = mount(FlowTestPanel, { props: { flowId: 'invoice' } });
    await flushPromises();
    await wrapper.find('textarea').setValue('{"cases": [{"name": "x", "input": {}}]}');
    await wrapper.find('[data-test="flow-tests-save"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test="flow-tests-errors"]').text()).toContain('/cases/0/input/node: is required');
  });

  it('shows a suite saved as text as it was typed, saves the text, and shows where a syntax error is', async () => {
    const source = '# doubles\ncases:\n  - name: x\n    input: { node: go }\n';
    const api = fakeApi({
      'GET /flows/invoice/tests': { body: { flowId: 'invoice', suite: { flow: 'invoice', cases: [{ name: 'x', input: { node: 'go' } }] }, source, updatedAt: 1, updatedBy: 'ed' } },
      'PUT /flows/invoice/tests': { status: 422, body: { title: 'Invalid tests', status: 422, detail: 'the test suite has problems (YAML)', errors: [{ pointer: '/', message: 'line 2, column 3: invalid YAML: bad indentation' }] } },
    });
    const wrapper = mount(FlowTestPanel, { props: { flowId: 'invoice' } });
    await flushPromises();
    expect((wrapper.find('textarea').element as HTMLTextAreaElement).value).toBe(source);
    expect((wrapper.find('[data-test="flow-tests-save"]').element as HTMLButtonElement).disabled).toBe(true); // unchanged
    await wrapper.find('textarea').setValue('cases:\n - name: x\n   bad');
    await wrapper.find('[data-test="flow-tests-save"]').trigger('click');
    await flushPromises();
    expect(api.called('PUT /flows/invoice/tests')[0]!.body).toEqual({ source: 'cases:\n - name: x\n   bad' });
    expect(wrapper.find('[data-test="flow-tests-errors"]').text()).toContain('line 2, column 3: invalid YAML: bad indentation');
    expect(wrapper.find('[data-test="flow-tests-errors"]').text()).not.toContain('/: line');
  });
});

describe('SubflowInfo', () => {
  it('shows the pinned version, offers the explicit upgrade and opens the definition in place', async () => {
    const definition = (version: number) => ({ definition: { id: 'vat', version, name: 'Add VAT', input: { type: 'object' }, nodes: [{ id: 'in', type: 'subflow-in', wires: [['calc']] }, { id: 'calc', type: 'change' }] }, projectId: 'default', createdAt: 1, createdBy: 'ed' });
    fakeApi({ 'GET /subflows/vat': { body: definition(2) }, 'GET /subflows/vat/versions/1': { body: definition(1) } });
    const wrapper = mount(SubflowInfo, { props: { type: 'subflow:vat', version: 1 } });
    await flushPromises();
    expect(wrapper.find('[data-test="subflow-pinned"]').text()).toBe('1');
    await wrapper.find('[data-test="subflow-upgrade"]').trigger('click');
    expect(wrapper.emitted('upgrade')).toEqual([[2]]);
    await wrapper.find('[data-test="subflow-open"]').trigger('click');
    await flushPromises();
    expect(wrapper.find('[data-test="subflow-definition"]').text()).toMatch(/Add VAT v1.*in.*subflow-in.*→ calc/s);
  });
});
