import { mount } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import type { JsonSchema } from '../api/types';
import SchemaForm from './SchemaForm.vue';

const schema: JsonSchema = {
  type: 'object',
  required: ['url'],
  properties: {
    url: { type: 'string', title: 'URL', description: 'Path below /webhook' },
    method: { type: 'string', enum: ['GET', 'POST'], default: 'POST' },
    timeout: { type: 'integer', minimum: 1 },
    active: { type: 'boolean', title: 'Active' },
    func: { type: 'string' },
    value: { type: ['string', 'number', 'boolean', 'null'], title: 'Value' },
    headers: { type: 'object', additionalProperties: { type: 'string' }, title: 'Headers' },
    options: { type: 'object', title: 'Options', properties: { retries: { type: 'integer', title: 'Retries' } } },
    rules: { type: 'array', title: 'Rules', items: { type: 'object', required: ['t'], properties: { t: { type: 'string', enum: ['eq', 'else'], title: 'Operator' } } } },
  },
};

function form(modelValue: Record<string, unknown>, issues: Array<{ pointer: string; message: string }> = []) {
  return mount(SchemaForm, { props: { schema, modelValue, issues }, attachTo: document.body });
}

const lastUpdate = (wrapper: ReturnType<typeof form>) => wrapper.emitted('update')!.at(-1) as [Record<string, unknown>, string];

describe('SchemaForm', () => {
  it('renders a widget per schema type, labelled by title or name', async () => {
    const wrapper = form({ url: '/a', method: 'GET', active: true, value: 3, func: 'return msg;', rules: [{ t: 'eq' }] });
    expect(wrapper.find('[data-test="field-/url"]').element).toBeInstanceOf(HTMLInputElement);
    expect((wrapper.find('[data-test="field-/url"]').element as HTMLInputElement).value).toBe('/a');
    expect(wrapper.find('select[data-test="field-/method"]').findAll('option').map((o) => o.text())).toEqual(['(default: POST)', 'GET', 'POST']);
    expect(wrapper.find('[data-test="field-/timeout"]').attributes('type')).toBe('number');
    expect((wrapper.find('[data-test="field-/active"]').element as HTMLInputElement).checked).toBe(true);
    // The code editor (CodeMirror) is loaded on first use.
    await vi.waitFor(() => expect(wrapper.find('[data-pointer="/func"] .code-editor .cm-content').text()).toBe('return msg;'), { timeout: 10_000 });
    expect((wrapper.find('[data-test="field-/value"]').element as HTMLInputElement).type).toBe('number');
    expect(wrapper.find('textarea[data-test="field-/headers"]').exists()).toBe(true);
    expect(wrapper.find('[data-test="field-/options/retries"]').exists()).toBe(true);
    expect(wrapper.find('select[data-test="field-/rules/0/t"]').exists()).toBe(true);
    expect(wrapper.text()).toContain('URL*');
    expect(wrapper.text()).toContain('Path below /webhook');
  });

  it('shows problems under the fields they concern, and the rest on top', () => {
    const wrapper = form({}, [
      { pointer: '/url', message: 'is required' },
      { pointer: '/rules/0/t', message: 'must be one of ["eq","else"]' },
      { pointer: '/mystery', message: 'is not a known property' },
    ]);
    expect(wrapper.find('[data-test="error-/url"]').text()).toBe('URL is required');
    expect(wrapper.find('[data-pointer="/url"]').classes()).toContain('invalid');
    // No rule 0 on screen (no rules at all) and no field for "mystery": both listed on top.
    expect(wrapper.find('[data-test="error-/rules/0/t"]').exists()).toBe(false);
    expect(wrapper.find('.form-issues').text()).toContain('/rules/0/t must be one of ["eq","else"]');
    expect(wrapper.find('.form-issues').text()).toContain('/mystery is not a known property');
  });

  it('emits the new props with the pointer of the changed field', async () => {
    const wrapper = form({ url: '/a', options: { retries: 1 } });
    await wrapper.find('[data-test="field-/url"]').setValue('/b');
    expect(lastUpdate(wrapper)).toEqual([{ url: '/b', options: { retries: 1 } }, '/url']);
    await wrapper.find('[data-test="field-/options/retries"]').setValue('4');
    expect(lastUpdate(wrapper)).toEqual([{ url: '/a', options: { retries: 4 } }, '/options/retries']);
    await wrapper.find('[data-test="field-/timeout"]').setValue('');
    expect(lastUpdate(wrapper)[0]).not.toHaveProperty('timeout');
  });

  it('adds, moves and removes array items', async () => {
    const wrapper = form({ url: '/a', rules: [{ t: 'eq' }, { t: 'else' }] });
    await wrapper.find('[data-test="add-rules"]').trigger('click');
    expect(lastUpdate(wrapper)[0].rules).toEqual([{ t: 'eq' }, { t: 'else' }, { t: 'eq' }]);
    await wrapper.find('[aria-label="Move item 1 down"]').trigger('click');
    expect(lastUpdate(wrapper)[0].rules).toEqual([{ t: 'else' }, { t: 'eq' }]);
    await wrapper.find('[aria-label="Remove item 1"]').trigger('click');
    expect(lastUpdate(wrapper)[0].rules).toEqual([{ t: 'else' }]);
  });

  it('switches the type of a mixed-type value', async () => {
    const wrapper = form({ url: '/a', value: '12' });
    await wrapper.find('[aria-label="Value type"]').setValue('number');
    expect(lastUpdate(wrapper)[0].value).toBe(12);
  });

  it('says so when free JSON is malformed, and does not apply it', async () => {
    const wrapper = form({ url: '/a', headers: { a: 'b' } });
    const updates = wrapper.emitted('update')?.length ?? 0;
    await wrapper.find('textarea[data-test="field-/headers"]').setValue('{"a": ');
    expect(wrapper.find('[data-pointer="/headers"] .field-error').text()).toMatch(/^Not valid JSON \(not applied\)/);
    expect(wrapper.emitted('update')?.length ?? 0).toBe(updates);
    await wrapper.find('textarea[data-test="field-/headers"]').setValue('{"a": "c"}');
    expect(lastUpdate(wrapper)).toEqual([{ url: '/a', headers: { a: 'c' } }, '/headers']);
  });

  it('labels fields by title, else by a readable key, and shows only the fields of the chosen mode', async () => {
    const delay: JsonSchema = {
      type: 'object',
      properties: {
        pauseType: { title: 'Action', enum: ['delay', 'rate'], default: 'delay' },
        timeout: { type: 'number', description: 'How long each message waits' },
        nbRateUnits: { type: 'number' },
      },
      allOf: [
        { if: { properties: { pauseType: { const: 'delay' } } }, then: { properties: { timeout: {} } } },
        { if: { properties: { pauseType: { const: 'rate' } }, required: ['pauseType'] }, then: { properties: { nbRateUnits: {} } } },
      ],
    };
    const wrapper = mount(SchemaForm, { props: { schema: delay, modelValue: {}, issues: [] } });
    expect(wrapper.findAll('label').map((l) => l.text())).toEqual(['Action', 'Timeout']);
    expect(wrapper.text()).toContain('How long each message waits');
    await wrapper.setProps({ modelValue: { pauseType: 'rate' } });
    expect(wrapper.findAll('label').map((l) => l.text())).toEqual(['Action', 'Nb rate units']);
    expect(wrapper.find('[data-test="field-/timeout"]').exists()).toBe(false);
  });

  it('shows a value and the property saying how to read it as one typed input, JSON text as written', async () => {
    const inject: JsonSchema = {
      type: 'object',
      properties: {
        payload: { title: 'Payload', description: 'legacy' },
        payloadType: { type: 'string', enum: ['str', 'num', 'json', 'date'], default: 'date' },
        props: { type: 'array', items: { type: 'object', properties: { p: { type: 'string' }, v: {}, vt: { type: 'string', enum: ['str', 'json'] } } } },
      },
    };
    const wrapper = mount(SchemaForm, { props: { schema: inject, modelValue: { payload: '{"n":6}', payloadType: 'json', props: [{ p: 'topic', v: 'a', vt: 'str' }] }, issues: [] } });
    expect(wrapper.findAll('label').map((l) => l.text())).toEqual(['Payload', 'P', 'V']);
    expect((wrapper.find('[data-test="field-/payload"]').element as HTMLInputElement).value).toBe('{"n":6}');
    expect((wrapper.find('[data-test="field-/payloadType"]').element as HTMLSelectElement).value).toBe('json');
    expect(wrapper.find('[data-test="field-/props/0/vt"]').exists()).toBe(true);
    await wrapper.find('[data-test="field-/payloadType"]').setValue('num');
    expect(lastUpdate(wrapper as never)).toEqual([{ payload: '{"n":6}', payloadType: 'num', props: [{ p: 'topic', v: 'a', vt: 'str' }] }, '/payloadType']);
    await wrapper.find('[data-test="field-/props/0/v"]').setValue('{"a":1}');
    expect(lastUpdate(wrapper as never)[0].props).toEqual([{ p: 'topic', v: '{"a":1}', vt: 'str' }]);
  });

  it("shows the real debug node's output as one typed input (x-typeProperty), without a value box for the whole message", async () => {
    const { debugNode } = await import('../../../nodes/core/src/io/debug.ts');
    const wrapper = mount(SchemaForm, { props: { schema: debugNode.props as JsonSchema, modelValue: { complete: 'payload', targetType: 'msg' }, issues: [] } });
    // Before: "Output" (a string/boolean switch) and "Output is" (a second picker) for one value.
    const labels = wrapper.findAll('label').map((l) => l.text());
    expect(labels).toContain('Output');
    expect(labels).not.toContain('Output is');
    const type = wrapper.find('select[data-test="field-/targetType"]');
    expect(type.findAll('option').map((o) => o.text())).toEqual(['msg.', 'whole message', 'expression']);
    expect((wrapper.find('input[data-test="field-/complete"]').element as HTMLInputElement).value).toBe('payload');
    await type.setValue('full');
    expect(lastUpdate(wrapper as never)).toEqual([{ complete: 'payload', targetType: 'full' }, '/targetType']);
    await wrapper.setProps({ modelValue: { complete: 'payload', targetType: 'full' } });
    expect(wrapper.find('input[data-test="field-/complete"]').exists()).toBe(false);
  });

  it("hides the real inject node's legacy fields (deprecated) unless an old flow set them", async () => {
    const { injectNode } = await import('../../../nodes/core/src/io/inject.ts');
    const schema = injectNode.props as JsonSchema;
    const fresh = mount(SchemaForm, { props: { schema, modelValue: { props: [{ p: 'payload', v: '{"n":6}', vt: 'json' }] }, issues: [] } });
    const labels = fresh.findAll('label').map((l) => l.text());
    expect(labels.some((l) => l.includes('legacy'))).toBe(false);
    // An imported Node-RED 0.x inject keeps its payload at the top: shown, with its type, so nothing is hidden from its author.
    const old = mount(SchemaForm, { props: { schema, modelValue: { payload: '{"n":6}', payloadType: 'json', topic: 't' }, issues: [] } });
    expect((old.find('[data-test="field-/payload"]').element as HTMLInputElement).value).toBe('{"n":6}');
    expect((old.find('[data-test="field-/payloadType"]').element as HTMLSelectElement).value).toBe('json');
    expect((old.find('[data-test="field-/topic"]').element as HTMLInputElement).value).toBe('t');
  });

  it("shows a crew agent's template text, greyed, in the empty fields the template fills (x-placeholderFrom)", async () => {
    const { agentFieldsSchema } = await import('../../../nodes/ai/src/crew/spec.ts');
    const schema: JsonSchema = { type: 'object', properties: { agent: { type: 'object', properties: agentFieldsSchema as Record<string, JsonSchema> } } };
    const wrapper = mount(SchemaForm, { props: { schema, modelValue: { agent: { template: 'research', goal: 'My own goal' } }, issues: [] } });
    const role = wrapper.find('[data-test="field-/agent/role"]').element as HTMLInputElement;
    expect(role.value).toBe('');
    expect(role.placeholder).toBe('Researcher');
    expect((wrapper.find('[data-test="field-/agent/backstory"]').element as HTMLInputElement).placeholder).toMatch(/meticulous researcher/);
    // A field the user filled keeps their text; another template shows its own.
    expect((wrapper.find('[data-test="field-/agent/goal"]').element as HTMLInputElement).value).toBe('My own goal');
    await wrapper.setProps({ modelValue: { agent: { template: 'qa' } } });
    expect((wrapper.find('[data-test="field-/agent/role"]').element as HTMLInputElement).placeholder).toBe('Quality Reviewer');
    await wrapper.setProps({ modelValue: { agent: {} } });
    expect((wrapper.find('[data-test="field-/agent/role"]').element as HTMLInputElement).placeholder).toBe('');
  });
});
