import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { openAIAnswer } from '../testing/fake-model-server.ts';
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
    expect(node.logs).toContainEqual(expect.objectContaining({ level: 'warn', message: expect.stringContaining('agents.yaml line 9: researcher.tools: ignored: "SerperDevTool" is a Python tool') }));
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
      'the crew is not valid: task "t1" names agent "b", which is not in the crew (agents: a); task "t2" takes context from "t3", which is not a task before it',
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

const fixture = (dir: string, file: string) => readFileSync(path.join(import.meta.dirname, '..', 'crew', 'fixtures', dir, file), 'utf8');

describe('ai-crew node: CrewAI projects without crew.py', () => {
  const crewai = { agentsYaml: fixture('no-agent-lines', 'agents.yaml'), tasksYaml: fixture('no-agent-lines', 'tasks.yaml') };

  it('refuses at validation a sequential crew whose imported tasks have no agent, saying where to assign one', () => {
    const issues = crewNode.validate!({ source: 'crewai', crewai } as CrewNodeProps);
    expect(issues.filter((i) => i.severity !== 'warning')).toEqual([
      {
        pointer: '/tasks',
        message:
          'tasks.yaml line 2: task "research_task" has no agent, and a sequential crew needs one per task: assign one in the crew node (tasks: add {key: "research_task", agent: one of "lead_market_analyst", "chief_content_strategist"}), or set process to hierarchical to let the manager assign it',
      },
      { pointer: '/tasks', message: expect.stringMatching(/^tasks\.yaml line 9: task "project_understanding_task" has no agent/) },
      { pointer: '/tasks', message: expect.stringMatching(/^tasks\.yaml line 15: task "marketing_strategy_task" has no agent/) },
    ]);
  });

  it('runs it once the crew node assigns the agents, with process and manager set on the node too', async () => {
    const props: CrewNodeProps = {
      source: 'crewai',
      crewai,
      tasks: [
        { key: 'research_task', agent: 'lead_market_analyst' },
        { key: 'project_understanding_task', agent: 'chief_content_strategist', context: [] },
        { key: 'marketing_strategy_task', agent: 'chief_content_strategist', outputSchema: { type: 'object', properties: { goals: { type: 'array' } }, required: ['goals'] } },
      ],
      stream: false,
    };
    expect(crewNode.validate!(props)).toEqual([]);
    const credentials = await fakeCrewModel((system, user) => {
      if (user.includes('Conduct a thorough research')) return 'Competitors: A, B.';
      if (user.includes('Understand the project')) return user.includes('Competitors: A, B.') ? 'leaked context' : 'Audience: cafés.';
      return user.includes('Competitors: A, B.') && user.includes('Audience: cafés.') ? '{"goals":["grow"]}' : `missing context: ${user.slice(0, 80)}`;
    });
    const node = await createTestNode(crewNode, props, { credentials });
    const [out] = await node.input({ payload: { customer_domain: 'acme.example', project_description: 'a coffee subscription' } });
    expect(out!.msg.payload).toEqual({ goals: ['grow'] });
    expect((out!.msg.crew as any).tasks.map((t: any) => [t.task, t.agent, t.output])).toEqual([
      ['research_task', 'Lead Market Analyst', 'Competitors: A, B.'],
      ['project_understanding_task', 'Chief Content Strategist', 'Audience: cafés.'],
      ['marketing_strategy_task', 'Chief Content Strategist', '{"goals":["grow"]}'],
    ]);
  });

  it('reads merge keys and anchor holders, fills {company-name}, and reports what it did not apply', async () => {
    const props: CrewNodeProps = { source: 'crewai', crewai: { agentsYaml: fixture('merge-keys', 'agents.yaml'), tasksYaml: fixture('merge-keys', 'tasks.yaml') }, stream: false };
    const issues = crewNode.validate!(props);
    expect(issues.every((i) => i.severity === 'warning')).toBe(true);
    expect(issues.map((i) => `${i.pointer} ${i.message}`)).toEqual([
      '/crewai/agentsYaml agents.yaml line 2: "_defaults" is taken for shared fields, not an agent: its name starts with "_"',
      '/crewai/agentsYaml agents.yaml line 8: writer.verbose: no effect: Flowcrew always records every step with the run and streams it to the editor',
      '/crewai/agentsYaml agents.yaml line 14: editor.verbose: no effect: Flowcrew always records every step with the run and streams it to the editor',
      '/crewai/tasksYaml tasks.yaml line 1: "task_base" is taken for shared fields, not a task: it defines the anchor &task_base that other entries use, and is not complete on its own',
      "/crewai/tasksYaml tasks.yaml line 13: polish.description is given twice (lines 12, 13): the last value is used, as CrewAI's loader does",
    ]);
    const credentials = await fakeCrewModel((system, user) => (system.startsWith('You are Editor at ACME.') ? `edited: ${user.includes('## Output of task "draft" (Writer at ACME)\ndraft') ? 'with draft' : 'no draft'}` : 'draft'));
    const node = await createTestNode(crewNode, props, { credentials });
    await expect(node.input({ payload: { 'product-name': 'Mugs' } })).rejects.toThrow('missing input {company-name}: send them as fields of msg.payload (the message offers product-name)');
    const [out] = await node.input({ payload: { 'company-name': 'ACME', 'product-name': 'Mugs' } });
    expect(out!.msg.payload).toBe('edited: with draft');
    expect(servers.current.requests[1]!.body.messages[0].content).toContain("You write plainly, in short sentences, for ACME's customers.");
  });

  it('uses an agent\'s CrewAI llm on a credential of its provider, and says when it cannot', async () => {
    const agentsYaml = 'a:\n  role: A\n  goal: G\n  llm: openai/gpt-4o-mini\nb:\n  role: B\n  goal: G\n  llm: anthropic/claude-3-5-haiku\n';
    const tasksYaml = 't1:\n  description: one\n  agent: a\nt2:\n  description: two\n  agent: b\n';
    const credentials = await fakeCrewModel(() => 'ok');
    const node = await createTestNode(crewNode, { source: 'crewai', crewai: { agentsYaml, tasksYaml }, stream: false }, { credentials });
    expect(node.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'agent "b": llm "anthropic/claude-3-5-haiku" is not used: this node runs on openai-compatible fake-model; attach an anthropic AI model credential to use it' }),
    );
    await node.input({ payload: {} });
    expect(servers.current.requests.map((r) => r.body.model)).toEqual(['gpt-4o-mini', 'fake-model']);
  });

  it('gives a task its own tools in place of the agent\'s (CrewAI task tools), set on the node for an imported task', async () => {
    const echo = { type: 'echo-tool', label: 'Echo', description: 'Echoes.', parameters: { type: 'object', properties: { text: { type: 'string' } } } };
    const credentials = await fakeCrewModel(() => 'done');
    const node = await createTestNode(
      crewNode,
      {
        source: 'crewai',
        crewai: { agentsYaml: 'a:\n  role: A\n  goal: G\n', tasksYaml: 't1:\n  description: one\n  agent: a\n  tools: [SerperDevTool]\nt2:\n  description: two\n  agent: a\n' },
        tasks: [{ key: 't1', tools: [{ type: 'echo-tool', name: 'echo' }] }],
        stream: false,
      },
      { credentials, services: { listTools: () => [echo] } },
    );
    await node.input({ payload: {} });
    expect(servers.current.requests.map((r) => (r.body.tools ?? []).map((t: any) => t.function.name))).toEqual([['echo'], []]);
  });

  it('records in msg.crew the tools offered and not used, and answers cut at the token limit', async () => {
    const credentials = await fakeCrewModel(() => 'An answer without tools.');
    const node = await createTestNode(
      crewNode,
      {
        agents: [{ key: 'r', template: 'research', tools: [{ type: 'echo-tool' }] }],
        tasks: [{ key: 't', description: 'Find out.', agent: 'r' }],
        stream: false,
      },
      { credentials, services: { listTools: () => [{ type: 'echo-tool', label: 'Echo', description: 'Echoes.', parameters: { type: 'object', properties: { text: { type: 'string' } } } }] } },
    );
    const [out] = await node.input({ payload: {} });
    expect((out!.msg.crew as any).tasks[0]).toMatchObject({ toolsUnused: true, notes: ['tools offered, none used: echo-tool'] });
  });
});

describe('the shipped example crew flow', () => {
  // The flow file is the subject here, not the model: a scripted model answers each agent, so this checks the shipped
  // crew's agents, tasks and context wiring quickly. The local model itself runs a crew below (hierarchical, defaults).
  it('runs Research → Analysis → QA from flows/crew-research.json: each agent its task, the review given both earlier answers', async () => {
    const flow = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '..', '..', '..', '..', 'flows', 'crew-research.json'), 'utf8'));
    const shipped = flow.nodes.find((n: { type: string }) => n.type === 'ai-crew');
    // As shipped it names no credential: `provider: auto` takes the local model (the test below runs that path).
    expect(shipped.credentials ?? null).toBeNull();
    expect(shipped.props.provider).toBe('auto');
    const credentials = await fakeCrewModel((system) => `Answer of ${system.slice('You are '.length, system.indexOf('.'))}.`);
    const node = await createTestNode(crewNode, { ...(shipped.props as CrewNodeProps), stream: false }, { credentials });
    const [out] = await node.input({ payload: { topic: 'solar panels' } });
    const crew = out!.msg.crew as { tasks: Array<{ task: string; agent: string; output: string }> };
    expect(crew.tasks.map((t) => [t.task, t.agent, t.output])).toEqual([
      ['research', 'Researcher', 'Answer of Researcher.'],
      ['analysis', 'Analyst', 'Answer of Analyst.'],
      ['review', 'Quality Reviewer', 'Answer of Quality Reviewer.'],
    ]);
    expect(out!.msg.payload).toBe('Answer of Quality Reviewer.');
    const asked = servers.current.requests.map((r) => JSON.stringify(r.body.messages));
    expect(asked[0]).toContain('solar panels');
    expect(asked[1]).toContain('Answer of Researcher.');
    expect(asked[2]).toContain('Answer of Researcher.');
    expect(asked[2]).toContain('Answer of Analyst.');
    // The shipped token cap reaches the model.
    expect(servers.current.requests.map((r) => r.body.max_tokens ?? r.body.max_completion_tokens)).toEqual([160, 160, 160]);
  });
});
