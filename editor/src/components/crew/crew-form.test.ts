import { describe, expect, it } from 'vitest';
import {
  contextMode,
  crewSettingsSections,
  crewTaskOrder,
  earlierInCrew,
  earlierTaskKeys,
  freshKey,
  isCrewSchema,
  issuesUnder,
  misplacedContext,
  moveTask,
  onlyProperties,
  outputFields,
  outputSchemaOf,
  removeTask,
  renameAgentInTasks,
  renameTask,
  withContextKey,
  withContextMode,
} from './crew-form';
import { crewaiKeys } from './crewai-keys';

const tasks = [{ key: 'a' }, { key: 'b', context: ['a'] }, { key: 'c', context: ['a', 'b'] }];

describe('crew form rules', () => {
  it('offers as context only the tasks before a task (CrewAI’s rule), never itself or later ones', () => {
    expect(earlierTaskKeys(tasks, 0)).toEqual([]);
    expect(earlierTaskKeys(tasks, 2)).toEqual(['a', 'b']);
    // With a CrewAI source, tasks.yaml's order comes first; a card of an imported key sits where the import puts it.
    const cards = [{ key: 'extra' }, { key: 'write' }];
    expect(crewTaskOrder(['research', 'write'], cards)).toEqual(['research', 'write', 'extra']);
    expect(earlierInCrew(['research', 'write'], cards, 0)).toEqual(['research', 'write']);
    expect(earlierInCrew(['research', 'write'], cards, 1)).toEqual(['research']);
  });

  it('reads and sets context as CrewAI means it: not set = every earlier task, [] = none, keys = those', () => {
    expect(contextMode({ key: 'x' })).toBe('all');
    expect(contextMode({ key: 'x', context: [] })).toBe('none');
    expect(contextMode({ key: 'x', context: ['a'] })).toBe('chosen');
    expect(withContextMode({ key: 'c', context: ['a'] }, 'all', ['a', 'b'])).toEqual({ key: 'c' });
    expect(withContextMode({ key: 'c' }, 'none', ['a', 'b'])).toEqual({ key: 'c', context: [] });
    expect(withContextMode({ key: 'c' }, 'chosen', ['a', 'b'])).toEqual({ key: 'c', context: ['b'] });
    // Picks keep the crew's order, whatever order they were ticked in.
    expect(withContextKey({ key: 'c', context: ['b'] }, 'a', true, ['a', 'b'])).toEqual({ key: 'c', context: ['a', 'b'] });
    expect(withContextKey({ key: 'c', context: ['a', 'b'] }, 'a', false, ['a', 'b'])).toEqual({ key: 'c', context: ['b'] });
    expect(misplacedContext({ key: 'b', context: ['a', 'c'] }, ['a'])).toEqual(['c']);
  });

  it('keeps references right when tasks and agents are renamed, removed or moved', () => {
    expect(renameTask(tasks, 0, 'facts')).toEqual([{ key: 'facts' }, { key: 'b', context: ['facts'] }, { key: 'c', context: ['facts', 'b'] }]);
    expect(removeTask(tasks, 1)).toEqual([{ key: 'a' }, { key: 'c', context: ['a'] }]);
    // b moved first: its context "a" is now a later task and is dropped (deploy would refuse it); c keeps both.
    expect(moveTask(tasks, 1, -1)).toEqual([{ key: 'b', context: [] }, { key: 'a' }, { key: 'c', context: ['a', 'b'] }]);
    expect(moveTask(tasks, 1, -1, false)[0]).toEqual({ key: 'b', context: ['a'] });
    expect(moveTask(tasks, 0, -1)).toEqual(tasks);
    expect(renameAgentInTasks([{ key: 't', agent: 'r' }, { key: 'u', agent: 'w' }], 'r', 'researcher')).toEqual([{ key: 't', agent: 'researcher' }, { key: 'u', agent: 'w' }]);
    expect(freshKey('task', ['task', 'task_2'])).toBe('task_3');
  });

  it('turns an object schema into rows and back, keeping what rows do not edit', () => {
    const schema = { type: 'object', properties: { title: { type: 'string', description: 'Headline' }, score: { type: 'number' }, tags: { type: 'array', items: { type: 'string' } } }, required: ['title'] };
    const rows = outputFields(schema)!;
    expect(rows.map((r) => [r.name, r.type, r.description, r.required])).toEqual([
      ['title', 'string', 'Headline', true],
      ['score', 'number', '', false],
      ['tags', 'list of text', '', false],
    ]);
    expect(outputSchemaOf(rows, schema)).toEqual(schema);
    expect(outputFields(undefined)).toEqual([]);
    expect(outputSchemaOf([])).toBeUndefined();
    // An unnamed row (being typed) is not in the schema yet.
    expect(outputSchemaOf([{ name: '', type: 'string', description: '', required: true, default: '', keep: {} }])).toEqual({ type: 'object', properties: {} });
    // A sub-flow's properties: defaults typed as their field's type; minimum, enum, nested fields and top-level keywords kept.
    const properties = {
      type: 'object',
      additionalProperties: false,
      properties: { rate: { type: 'number', minimum: 0, default: 0.2 }, mode: { type: 'string', enum: ['a', 'b'] }, nested: { type: 'object', properties: { x: { type: 'string' } } } },
    };
    const propRows = outputFields(properties)!;
    expect(propRows.map((r) => [r.name, r.type, r.default, r.keep])).toEqual([
      ['rate', 'number', '0.2', { minimum: 0 }],
      ['mode', 'string', '', { enum: ['a', 'b'] }],
      ['nested', 'kept', '', { type: 'object', properties: { x: { type: 'string' } } }],
    ]);
    expect(outputSchemaOf(propRows, properties)).toEqual(properties);
    propRows[0]!.default = '0.25';
    expect(outputSchemaOf(propRows, properties)!.properties).toMatchObject({ rate: { type: 'number', minimum: 0, default: 0.25 } });
    propRows[0]!.default = 'lots';
    expect((outputSchemaOf(propRows, properties)!.properties as Record<string, object>).rate).toEqual({ type: 'number', minimum: 0 });
    expect(outputFields({ type: 'array' })).toBeNull();
    expect(outputFields('text')).toBeNull();
  });

  it('tells a crew-shaped schema, and re-bases problems onto a card', () => {
    const crew = { type: 'object', properties: { agents: { type: 'array', items: { properties: { key: {}, role: {} } } }, tasks: { type: 'array', items: { properties: { key: {}, description: {} } } } } };
    expect(isCrewSchema(crew)).toBe(true);
    expect(isCrewSchema({ type: 'object', properties: { agents: { type: 'array' } } })).toBe(false);
    expect(issuesUnder([{ pointer: '/tasks/1/agent', message: 'x' }, { pointer: '/tasks/10', message: 'y' }, { pointer: '/tasks/1', message: 'z' }], '/tasks/1')).toEqual([
      { pointer: '/agent', message: 'x' },
      { pointer: '', message: 'z' },
    ]);
  });

  it('lists the keys of CrewAI YAML in order, merge keys read, shared-field holders and broken text left out', async () => {
    const yaml = '_base: &base\n  goal: G\nresearcher:\n  <<: *base\n  role: R\nwriter:\n  role: W\n';
    expect(await crewaiKeys(yaml)).toEqual(['researcher', 'writer']);
    expect(await crewaiKeys('a: [unclosed')).toEqual([]);
    expect(await crewaiKeys('')).toEqual([]);
  });
});

describe('crew settings sections (a short panel)', () => {
  const schema = {
    type: 'object',
    required: ['process'],
    properties: {
      process: { enum: ['sequential', 'hierarchical'] },
      source: { enum: ['inline', 'crewai'] },
      planning: { type: 'boolean' },
      crewai: { type: 'object', properties: { agentsYaml: { type: 'string' }, tasksYaml: { type: 'string' } } },
      manager: { type: 'object', properties: { role: { type: 'string' }, maxIterations: { type: 'integer' } } },
      memory: { type: 'object', title: 'Crew memory', properties: { enabled: { type: 'boolean' } } },
      mcpServers: { type: 'array', items: { type: 'object' } },
    },
  };

  it('keeps plain fields inline, folds object and list settings, leaves out what the mode does not use while empty', () => {
    const { inline, sections } = crewSettingsSections(schema, { process: 'sequential', source: 'inline' }, []);
    expect(inline).toEqual(['process', 'source', 'planning']);
    expect(sections).toEqual([
      { key: 'memory', label: 'Crew memory', summary: 'not set', open: false },
      { key: 'mcpServers', label: 'Mcp servers', summary: 'not set', open: false },
    ]);
  });

  it('shows the CrewAI YAML with a crewai source (unfolded while empty, to paste into) and the manager when hierarchical', () => {
    const empty = crewSettingsSections(schema, { process: 'hierarchical', source: 'crewai' }, []).sections;
    expect(empty.map((s) => [s.key, s.open, s.summary])).toEqual([
      ['crewai', true, 'not set'],
      ['manager', false, 'not set'],
      ['memory', false, 'not set'],
      ['mcpServers', false, 'not set'],
    ]);
    const filled = crewSettingsSections(schema, { process: 'hierarchical', source: 'crewai', crewai: { agentsYaml: 'a:\n  role: A\n', tasksYaml: 't:\n  description: T' }, manager: { role: 'Boss', maxIterations: 2 }, mcpServers: [{}] }, []).sections;
    expect(filled.map((s) => [s.key, s.open, s.summary])).toEqual([
      ['crewai', false, 'agents.yaml 2 lines, tasks.yaml 2 lines'],
      ['manager', false, 'role, max iterations'],
      ['memory', false, 'not set'],
      ['mcpServers', false, '1 item'],
    ]);
  });

  it('never hides a setting that holds a value or a problem, and unfolds one with a problem', () => {
    const kept = crewSettingsSections(schema, { process: 'sequential', source: 'inline', manager: { role: 'Boss' } }, [{ pointer: '/crewai/agentsYaml' }]).sections;
    expect(kept.find((s) => s.key === 'manager')).toMatchObject({ open: false, summary: 'role' });
    expect(kept.find((s) => s.key === 'crewai')).toMatchObject({ open: true, summary: '1 problem' });
  });

  it('gives a section its own schema: that property only, required kept', () => {
    expect(onlyProperties(schema, ['process'])).toEqual({ type: 'object', properties: { process: schema.properties.process }, required: ['process'] });
    expect(onlyProperties(schema, ['manager'])).toEqual({ type: 'object', properties: { manager: schema.properties.manager } });
  });
});
