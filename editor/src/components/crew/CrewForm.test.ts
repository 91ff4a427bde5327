import { flushPromises, mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it, vi } from 'vitest';
// The crew node's own agent and task schemas (nodes/ai), so the form is tested against what the pack declares.
import { agentSpecSchema, taskSpecSchema } from '../../../../nodes/ai/src/crew/spec.ts';
import type { JsonSchema } from '../../api/types';
import CrewForm from './CrewForm.vue';

const schema: JsonSchema = {
  type: 'object',
  properties: {
    process: { enum: ['sequential', 'hierarchical'], default: 'sequential' },
    source: { enum: ['inline', 'crewai'], default: 'inline' },
    agents: { type: 'array', items: agentSpecSchema, default: [] },
    tasks: { type: 'array', items: taskSpecSchema, default: [] },
    crewai: { type: 'object', properties: { agentsYaml: { type: 'string' }, tasksYaml: { type: 'string' } } },
  },
};

function mountForm(value: Record<string, unknown>, issues: Array<{ pointer: string; message: string }> = []) {
  const updates: Array<{ value: Record<string, unknown>; pointer: string }> = [];
  const wrapper = mount(CrewForm, {
    props: {
      schema,
      modelValue: value,
      issues,
      // What the property panel does: the new props come back as the form's value.
      onUpdate: (v: Record<string, unknown>, p: string) => {
        updates.push({ value: v, pointer: p });
        void wrapper.setProps({ modelValue: v });
      },
    },
  });
  return { wrapper, updates };
}

const crew = {
  agents: [
    { key: 'researcher', template: 'research' },
    { key: 'writer', role: 'Writer', goal: 'Write' },
  ],
  tasks: [
    { key: 'research', description: 'Find facts about {topic}', expectedOutput: 'Three facts', agent: 'researcher' },
    { key: 'outline', description: 'Outline', agent: 'writer' },
    { key: 'write', description: 'Write it', agent: 'writer', context: ['research'] },
  ],
};

describe('CrewForm', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('shows agents and tasks as cards, with the template text greyed in empty fields', () => {
    const { wrapper } = mountForm(crew);
    const researcher = wrapper.find('[data-test="agent-card-researcher"]');
    expect(researcher.find('[data-test$="/role"]').attributes('placeholder')).toBeTruthy();
    expect((researcher.find('[data-test$="/role"]').element as HTMLTextAreaElement).value).toBe('');
    // The card is titled by what the agent will be told it is.
    expect(researcher.find('[data-test="agent-title"]').text()).toBe(researcher.find('[data-test$="/role"]').attributes('placeholder'));
    const research = wrapper.find('[data-test="task-card-research"]');
    expect((research.find('[data-test$="/description"]').element as HTMLTextAreaElement).value).toBe('Find facts about {topic}');
    expect((research.find('[data-test$="/expectedOutput"]').element as HTMLTextAreaElement).value).toBe('Three facts');
    expect(research.findAll('[data-test$="/agent"] option').map((o) => o.text())).toEqual(['—', 'researcher', 'writer']);
  });

  it('offers only EARLIER tasks as context, never the task itself or later ones', async () => {
    const { wrapper, updates } = mountForm(crew);
    expect(wrapper.find('[data-test="task-card-research"] [data-test="context-chosen"]').attributes('disabled')).toBeDefined();
    const write = wrapper.find('[data-test="task-card-write"]');
    expect(write.findAll('[data-test*="/context-"]').map((o) => o.attributes('data-test'))).toEqual(['pick-/tasks/2/context-research', 'pick-/tasks/2/context-outline']);
    await write.find('[data-test="pick-/tasks/2/context-outline"]').setValue(true);
    await flushPromises();
    expect(updates.at(-1)).toMatchObject({ pointer: '/tasks/2/context', value: { tasks: [{}, {}, { context: ['research', 'outline'] }] } });
    // Switching the outline to "chosen" offers only the research.
    const outline = wrapper.find('[data-test="task-card-outline"]');
    await outline.find('[data-test="context-chosen"]').setValue(true);
    await flushPromises();
    expect(outline.findAll('[data-test*="/context-"]').map((o) => o.attributes('data-test'))).toEqual(['pick-/tasks/1/context-research']);
    await outline.find('[data-test="context-none"]').setValue(true);
    await flushPromises();
    expect((updates.at(-1)!.value.tasks as Array<Record<string, unknown>>)[1]!.context).toEqual([]);
    await outline.find('[data-test="context-all"]').setValue(true);
    expect((updates.at(-1)!.value.tasks as Array<Record<string, unknown>>)[1]).not.toHaveProperty('context');
  });

  it('assigns agents, renames an agent everywhere and edits the structured output as fields', async () => {
    const { wrapper, updates } = mountForm(crew);
    await wrapper.find('[data-test="task-card-outline"] [data-test$="/agent"]').setValue('researcher');
    await flushPromises();
    expect((updates.at(-1)!.value.tasks as Array<Record<string, unknown>>)[1]!.agent).toBe('researcher');
    await wrapper.find('[data-test="agent-card-writer"] [data-test$="/key"]').setValue('author');
    await flushPromises();
    expect((updates.at(-1)!.value.tasks as Array<Record<string, unknown>>).map((t) => t.agent)).toEqual(['researcher', 'researcher', 'author']);

    const write = wrapper.find('[data-test="task-card-write"]');
    await write.find('[data-test="output-field-add"]').trigger('click');
    await flushPromises();
    await write.find('[data-test="output-field-name"]').setValue('headline');
    await write.find('[data-test="output-field-description"]').setValue('One line');
    expect((updates.at(-1)!.value.tasks as Array<Record<string, unknown>>)[2]!.outputSchema).toEqual({ type: 'object', properties: { headline: { type: 'string', description: 'One line' } }, required: ['headline'] });
  });

  it('places problems from validation on the card and field they concern', () => {
    const { wrapper } = mountForm({ ...crew, tasks: [{ key: 'b', description: 'x', context: ['a'] }, { key: 'a', description: 'y' }] }, [{ pointer: '/tasks/0/agent', message: 'needs an agent' }]);
    const b = wrapper.find('[data-test="task-card-b"]');
    expect(b.text()).toContain('needs an agent');
    expect(b.find('[data-test="context-misplaced"]').text()).toContain('"a" is not a task before this one');
  });

  it('lists tasks.yaml tasks without a card and adds a card of that key to assign their agent', async () => {
    const { wrapper, updates } = mountForm({
      source: 'crewai',
      crewai: { agentsYaml: 'analyst:\n  role: Analyst\n  goal: G\n', tasksYaml: 'research_task:\n  description: R\nreport_task:\n  description: W\n' },
      agents: [],
      tasks: [],
    });
    // The YAML library is loaded on first use.
    await vi.waitFor(() => expect(wrapper.find('[data-test="imported-add-report_task"]').exists()).toBe(true), { timeout: 10_000 });
    await wrapper.find('[data-test="imported-add-report_task"]').trigger('click');
    expect(updates.at(-1)!.value.tasks).toEqual([{ key: 'report_task' }]);
    await flushPromises();
    const card = wrapper.find('[data-test="task-card-report_task"]');
    expect(card.find('[data-test$="/description"]').attributes('placeholder')).toBe('W');
    expect(card.findAll('[data-test$="/agent"] option').map((o) => o.text())).toContain('analyst');
    // In the crew's order, the imported research task runs before it: offered as context.
    await card.find('[data-test="context-chosen"]').setValue(true);
    await flushPromises();
    expect(card.findAll('[data-test*="/context-"]').map((o) => o.attributes('data-test'))).toEqual(['pick-/tasks/0/context-research_task']);
    expect(wrapper.findAll('[data-test^="imported-add-"]').map((o) => o.attributes('data-test'))).toEqual(['imported-add-research_task']);

    // An imported agent gets a card the same way, its YAML text greyed in the empty fields.
    await wrapper.find('[data-test="imported-agent-add-analyst"]').trigger('click');
    expect(updates.at(-1)!.value.agents).toEqual([{ key: 'analyst' }]);
    await flushPromises();
    const analyst = wrapper.find('[data-test="agent-card-analyst"]');
    expect(analyst.find('[data-test$="/role"]').attributes('placeholder')).toBe('Analyst');
    expect(analyst.find('[data-test="agent-title"]').text()).toBe('Analyst');
    expect(wrapper.find('[data-test="imported-agents"]').exists()).toBe(false);
  });

  it('lists what the CrewAI import does not apply from the YAML, with the line and reason the runtime gives', async () => {
    const { wrapper } = mountForm({
      source: 'crewai',
      crewai: { agentsYaml: 'analyst:\n  role: Analyst\n  goal: G\n  tools:\n    - SerperDevTool\n', tasksYaml: 'research:\n  description: R\n  agent: analyst\n' },
      agents: [],
      tasks: [],
    });
    // The pack's import is loaded on first use.
    await vi.waitFor(() => expect(wrapper.find('[data-test="crewai-notes"]').exists()).toBe(true), { timeout: 10_000 });
    const notes = wrapper.find('[data-test="crewai-notes"]');
    expect(notes.find('summary').text()).toBe('Not applied from the CrewAI YAML (1)');
    expect(notes.find('li').text()).toMatch(/^agents\.yaml line 4: analyst\.tools: ignored: "SerperDevTool" is a Python tool/);
    // Broken YAML lists nothing here (validation names the problem); no YAML, no list.
    await wrapper.setProps({ modelValue: { source: 'crewai', crewai: { agentsYaml: 'a: [', tasksYaml: '' }, agents: [], tasks: [] } });
    await vi.waitFor(() => expect(wrapper.find('[data-test="crewai-notes"]').exists()).toBe(false), { timeout: 10_000 });
  });
});
