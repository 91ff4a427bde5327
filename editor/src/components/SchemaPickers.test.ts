import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { JsonSchema } from '../api/types';
import { optionsFrom } from '../lib/schema';
import SchemaForm from './SchemaForm.vue';

// A crew's shape: a task picks its agent and its context from keys defined elsewhere in the same props.
const schema: JsonSchema = {
  type: 'object',
  properties: {
    agents: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' } } } },
    tasks: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          key: { type: 'string' },
          agent: { type: 'string', title: 'Agent', 'x-optionsFrom': '/agents/*/key' },
          context: { type: 'array', title: 'Context', items: { type: 'string', 'x-optionsFrom': '/tasks/*/key' } },
        },
      },
    },
  },
};
const value = { agents: [{ key: 'researcher' }, { key: 'writer' }, { key: '' }], tasks: [{ key: 'facts', agent: 'researcher' }, { key: 'post', agent: 'ghost', context: [] }] };

describe('choices from elsewhere in the form (x-optionsFrom)', () => {
  it('reads every item of an array along the path, non-empty strings once', () => {
    expect(optionsFrom(value, '/agents/*/key')).toEqual(['researcher', 'writer']);
    expect(optionsFrom(value, '/tasks/*/key')).toEqual(['facts', 'post']);
    expect(optionsFrom({}, '/agents/*/key')).toEqual([]);
  });

  it("offers a task's agent as a picker of the defined agents, and its context as checkboxes of the tasks", async () => {
    const wrapper = mount(SchemaForm, { props: { schema, modelValue: value, issues: [] } });
    const agent = wrapper.find('select[data-test="field-/tasks/0/agent"]');
    expect(agent.findAll('option').map((o) => o.text())).toEqual(['—', 'researcher', 'writer']);
    // A value that names no agent stays visible, marked.
    expect(wrapper.find('select[data-test="field-/tasks/1/agent"]').findAll('option').map((o) => o.text())).toContain('ghost (not listed above)');
    await agent.setValue('writer');
    const [updated, pointer] = wrapper.emitted('update')!.at(-1) as [typeof value, string];
    expect(pointer).toBe('/tasks/0/agent');
    expect(updated.tasks[0]!.agent).toBe('writer');

    await wrapper.find('[data-test="pick-/tasks/1/context-facts"]').setValue(true);
    const [withContext] = wrapper.emitted('update')!.at(-1) as [typeof value, string];
    expect(withContext.tasks[1]!.context).toEqual(['facts']);
    expect(wrapper.find('[data-test="field-/tasks/0/context"]').text()).toContain('(not set)');
  });
});
