import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { openAIAnswer } from '../testing/fake-model-server.ts';
import { skipLocalModelTests, requireLocalModel } from '../testing/local-model.ts';
import { setUpNodeTests } from '../testing/test-setup.ts';
import { crewNode, type CrewNodeProps } from './crew-node.ts';

const servers = setUpNodeTests();

/** A fake OpenAI-compatible server whose answer depends on which agent (system prompt) asks what. */
async function fakeCrewModel(answer: (system: string, user: string) => string) {
  const server = await servers.start((req) => {
    const messages = req.body.messages as Array<{ role: string; content: string }>;
    const system = messages.find((m) => m.role === 'system')?.content ?? '';
    const user = messages.filter((m) => m.role === 'user').at(-1)?.content ?? '';
    return { json: openAIAnswer(answer(system, user)) };
  });
  return { provider: 'openai-compatible', baseUrl: `${server.url}/v1`, model: 'fake-model', maxRetries: 0 };
}

const AGENTS_YAML = `
researcher:
  role: >
    {topic} Researcher
  goal: >
    Find facts about {topic}
  backstory: >
    Thorough.
  tools:
    - SerperDevTool
writer:
  role: Writer
  goal: Write about {topic}
  backstory: Clear.
`;
const TASKS_YAML = `
research_task:
  description: Research {topic}.
  expected_output: Three facts.
  agent: researcher
write_task:
  description: Write a paragraph about {topic}.
  expected_output: One paragraph.
  agent: writer
`;

describe('ai-crew node', () => {
  it('runs a crew imported from CrewAI YAML, filling {placeholders} from the message', async () => {
    const credentials = await fakeCrewModel((system, user) => {
      if (system.startsWith('You are pgvector Researcher.')) return 'Fact 1. Fact 2. Fact 3.';
      if (system.startsWith('You are Writer.') && user.includes('Fact 1. Fact 2. Fact 3.')) return 'pgvector brings vector search to Postgres.';
      return `unexpected: ${system.slice(0, 40)}`;
    });
    const node = await createTestNode(crewNode, { source: 'crewai', crewai: { agentsYaml: AGENTS_YAML, tasksYaml: TASKS_YAML }, stream: false }, { credentials });
    expect(node.logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('researcher.tools ignored') }));
    const [out] = await node.input({ payload: { topic: 'pgvector' } });
    expect(out!.msg.payload).toBe('pgvector brings vector search to Postgres.');
    expect((out!.msg.crew as any).tasks.map((t: any) => [t.task, t.agent])).toEqual([
      ['research_task', 'pgvector Researcher'],
      ['write_task', 'Writer'],
    ]);
    expect(servers.current.requests[0]!.body.messages[1].content).toContain('Current task: Research pgvector.');
    expect(node.usages).toHaveLength(2);
  });

  it('names the missing inputs instead of prompting with holes', async () => {
    const credentials = await fakeCrewModel(() => 'x');
    const node = await createTestNode(crewNode, { source: 'crewai', crewai: { agentsYaml: AGENTS_YAML, tasksYaml: TASKS_YAML } }, { credentials });
    await expect(node.input({ payload: { subject: 'pgvector' } })).rejects.toThrow('missing input {topic}: send them as fields of msg.payload (the message offers subject)');
    expect(servers.current.requests).toHaveLength(0);
  });

  it('refuses an invalid crew at deploy with every problem listed', async () => {
    const props: CrewNodeProps = {
      agents: [{ key: 'a', template: 'research' }],
      tasks: [
        { key: 't1', description: 'x', agent: 'b' },
        { key: 't2', description: 'y', agent: 'a', context: ['t3'] },
      ],
    };
    await expect(createTestNode(crewNode, props)).rejects.toThrow(
      'the crew is not valid: task "t1" names agent "b", which is not in the crew (agents: a); task "t2" takes context from "t3", which is not an earlier task',
    );
  });

  it('refuses at deploy an agent whose own model file does not exist', async () => {
    await expect(createTestNode(crewNode, { agents: [{ key: 'a', template: 'qa', model: '/models/missing.gguf' }], tasks: [{ key: 't', description: 'x', agent: 'a' }] })).rejects.toThrow(
      'model file /models/missing.gguf does not exist: correct the model of agent "a", or leave it empty to use the node\'s model',
    );
  });

  it('runs a hierarchical crew: plan, assignment, review, with the verdicts in msg.crew', async () => {
    const credentials = await fakeCrewModel((system, user) => {
      if (system.startsWith('You are Crew Manager.')) {
        if (user.includes('Plan how your team')) return 'Researcher first.';
        if (user.includes('Assign the task')) return '{"agent":"researcher","instructions":"Be brief."}';
        return '{"approved":true,"feedback":"Fine."}';
      }
      return 'Short answer.';
    });
    const node = await createTestNode(
      crewNode,
      { process: 'hierarchical', agents: [{ key: 'researcher', template: 'research' }, { key: 'qa', template: 'qa' }], tasks: [{ key: 'facts', description: 'Facts about {input}' }], stream: false },
      { credentials },
    );
    const [out] = await node.input({ payload: 'solar power' });
    expect(out!.msg.crew).toMatchObject({ process: 'hierarchical', plan: 'Researcher first.', tasks: [{ task: 'facts', agent: 'Researcher', output: 'Short answer.', review: { approved: true, feedback: 'Fine.' } }] });
    expect(node.progress).toContainEqual({ type: 'delegation', task: 'facts', from: 'Crew Manager', to: 'Researcher', instructions: 'Be brief.' });
  });
});

describe.skipIf(skipLocalModelTests)('the example crew flow on the local model', () => {
  it('runs Research → Analysis → QA from flows/crew-research.json on SmolLM2', async () => {
    requireLocalModel();
    const flow = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', '..', '..', '..', 'flows', 'crew-research.json'), 'utf8'));
    const props = flow.nodes.find((n: { type: string }) => n.type === 'ai-crew').props as CrewNodeProps;
    // As shipped, except a smaller token cap to keep the suite quick on two cores.
    const node = await createTestNode(crewNode, { ...props, maxTokens: 24 });
    const [out] = await node.input({ payload: { topic: 'solar panels' } });
    const crew = out!.msg.crew as { tasks: Array<{ task: string; agent: string; output: string }> };
    expect(crew.tasks.map((t) => [t.task, t.agent])).toEqual([
      ['research', 'Researcher'],
      ['analysis', 'Analyst'],
      ['review', 'Quality Reviewer'],
    ]);
    for (const t of crew.tasks) expect(t.output.length).toBeGreaterThan(0);
    expect(out!.msg.payload).toBe(crew.tasks[2]!.output);
    expect(node.usages).toHaveLength(3);
    expect(node.usages[0]).toMatchObject({ model: 'SmolLM2-135M-Instruct.Q4_1.gguf', costUsd: 0 });
    expect(node.progress.some((p) => (p as { type: string }).type === 'token')).toBe(true);
  });
});
