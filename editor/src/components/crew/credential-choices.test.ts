import { mount } from '@vue/test-utils';
import { describe, expect, it } from 'vitest';
import type { CredentialInfo, JsonSchema } from '../../api/types';
import SchemaForm from '../SchemaForm.vue';
import { withCredentialChoices } from './credential-choices';

// The ai-crew node's shape: agents and the manager may name an AI model credential of their own.
const schema: JsonSchema = {
  type: 'object',
  properties: {
    process: { enum: ['sequential', 'hierarchical'] },
    agents: { type: 'array', items: { type: 'object', properties: { key: { type: 'string' }, credential: { type: 'string', minLength: 1 } } } },
    manager: { type: 'object', properties: { role: { type: 'string' }, credential: { type: 'string', minLength: 1 } } },
  },
};
const credentials = { type: 'ai-model', inProps: ['/agents/*/credential', '/manager/credential'] };
const stored = [
  { id: 'c-small', name: 'Local small model', type: 'ai-model' },
  { id: 'c-big', name: 'Big planner (Anthropic)', type: 'ai-model' },
  { id: 'c-http', name: 'Some API token', type: 'http-auth' },
] as unknown as CredentialInfo[];

describe('credential pickers inside props (credentials.inProps)', () => {
  it('turns each named field into a choice of the stored credentials of the node’s type, by name', () => {
    const made = withCredentialChoices(schema, credentials, stored, { manager: { credential: 'c-gone' } });
    const manager = (made.properties as Record<string, JsonSchema>).manager!.properties as Record<string, JsonSchema>;
    expect(manager.credential).toMatchObject({ enum: ['c-small', 'c-big', 'c-gone'], 'x-enumTitles': ['Local small model', 'Big planner (Anthropic)', 'c-gone (not found)'] });
    const agent = ((made.properties as Record<string, JsonSchema>).agents!.items as JsonSchema).properties as Record<string, JsonSchema>;
    expect(agent.credential!.enum).toEqual(['c-small', 'c-big']);
    // The pack's schema itself is untouched (the runtime and validation read it).
    expect((schema.properties as Record<string, JsonSchema>).manager).not.toHaveProperty('properties.credential.enum');
    // Same choices, same object: the form does not redraw on every keystroke elsewhere.
    expect(withCredentialChoices(schema, credentials, stored, { manager: { credential: 'c-gone', role: 'Boss' } })).toBe(made);
    expect(withCredentialChoices(schema, { type: 'ai-model' }, stored, {})).toBe(schema);
  });

  it("shows the manager's credential as a picker; empty means the node's own", async () => {
    const value = { process: 'hierarchical', agents: [{ key: 'writer' }], manager: {} };
    const wrapper = mount(SchemaForm, { props: { schema: withCredentialChoices(schema, credentials, stored, value), modelValue: value, issues: [] } });
    const picker = wrapper.find('select[data-test="field-/manager/credential"]');
    expect(picker.findAll('option').map((o) => o.text())).toEqual(["(default: the node's credential)", 'Local small model', 'Big planner (Anthropic)']);
    await picker.setValue('1');
    expect(wrapper.emitted('update')!.at(-1)).toEqual([{ ...value, manager: { credential: 'c-big' } }, '/manager/credential']);
    expect(wrapper.find('select[data-test="field-/agents/0/credential"]').exists()).toBe(true);
  });
});
