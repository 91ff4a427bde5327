import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../api/types';
import { REMOTE_OPTIONS } from '../lib/schema';
import SchemaForm from './SchemaForm.vue';

// A GraphQL node's query: its choices come from the runtime (the endpoint's operations), asked on demand.
const schema: JsonSchema = { type: 'object', properties: { query: { type: 'string', title: 'Query', 'x-optionsSource': 'operations' } } };

describe('choices from the runtime (x-optionsSource)', () => {
  it('asks the provided source on demand and puts the picked choice in the field', async () => {
    const asked: string[] = [];
    const source = async (name: string) => {
      asked.push(name);
      return [{ value: 'query Count {\n  count\n}', label: 'query count: Int!' }];
    };
    const wrapper = mount(SchemaForm, { props: { schema, modelValue: {}, issues: [] }, global: { provide: { [REMOTE_OPTIONS as symbol]: source } } });
    expect(asked).toEqual([]);
    await wrapper.find('[data-test="options-/query"]').trigger('click');
    await new Promise((resolve) => setTimeout(resolve));
    expect(asked).toEqual(['operations']);
    const pick = wrapper.find('select[data-test="options-pick-/query"]');
    expect(pick.findAll('option').map((o) => o.text())).toEqual(['— choose —', 'query count: Int!']);
    await pick.setValue('0');
    const [updated, pointer] = wrapper.emitted('update')!.at(-1) as [Record<string, unknown>, string];
    expect(pointer).toBe('/query');
    expect(updated.query).toBe('query Count {\n  count\n}');
  });

  it("shows the runtime's refusal, and no button where nothing provides choices", async () => {
    const failing = mount(SchemaForm, { props: { schema, modelValue: {}, issues: [] }, global: { provide: { [REMOTE_OPTIONS as symbol]: async () => Promise.reject(new Error('graphql: operations: HTTP 401')) } } });
    await failing.find('[data-test="options-/query"]').trigger('click');
    await new Promise((resolve) => setTimeout(resolve));
    expect(failing.find('[role="alert"]').text()).toBe('graphql: operations: HTTP 401');
    expect(mount(SchemaForm, { props: { schema, modelValue: {}, issues: [] } }).find('[data-test="options-/query"]').exists()).toBe(false);
  });
});
