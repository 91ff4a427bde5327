/**
 * CrewAI Flows imported statically: CrewAI's own poem-flow template and a flow in the documented router / or_ / and_
 * shapes become Flowcrew flows that the runtime's validator accepts, with every Python body and non-declarative
 * piece listed as unmapped, never silently dropped.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { validateFlow } from '../../../../runtime/src/flow/validate.ts';
import { NodeRegistry } from '../../../../runtime/src/registry/registry.ts';
import { importCrewAIFlow } from './crewai-flows.ts';
import { importCrewAI } from './crewai-import.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures', 'crewai-flows');
const read = (...parts: string[]) => readFileSync(path.join(fixtures, ...parts), 'utf8');
const registry = new NodeRegistry();
beforeAll(async () => {
  await registry.loadPackagesIn(path.resolve(import.meta.dirname, '..', '..', '..'), 'workspace');
}, 30_000);

const wiresOf = (flow: ReturnType<typeof importCrewAIFlow>['flow']) => Object.fromEntries(flow.nodes.map((n) => [n.id, n.wires]));

describe('CrewAI Flows import', () => {
  it("maps CrewAI's poem-flow template: start, listen, the crew with its YAML, the Python bodies listed", () => {
    const { flow, unmapped } = importCrewAIFlow(read('poem_flow', 'main.py'), {
      'crews/poem_crew/config/agents.yaml': read('poem_flow', 'crews', 'poem_crew', 'config', 'agents.yaml'),
      'crews/poem_crew/config/tasks.yaml': read('poem_flow', 'crews', 'poem_crew', 'config', 'tasks.yaml'),
      'crews/poem_crew/poem_crew.py': read('poem_flow', 'crews', 'poem_crew', 'poem_crew.py'),
    });
    expect(flow).toMatchObject({ id: 'poem-flow', name: 'PoemFlow' });
    expect(flow.nodes.map((n) => [n.id, n.type])).toEqual([
      ['kickoff', 'inject'],
      ['generate_sentence_count', 'function'],
      ['generate_poem', 'ai-crew'],
      ['save_poem', 'function'],
    ]);
    expect(wiresOf(flow)).toEqual({ kickoff: [['generate_sentence_count']], generate_sentence_count: [['generate_poem']], generate_poem: [['save_poem']], save_poem: [] });
    const crew = flow.nodes.find((n) => n.id === 'generate_poem')!;
    expect((crew.props.crewai as { agentsYaml: string }).agentsYaml).toContain('CrewAI Poem Writer');
    // From crews/poem_crew/poem_crew.py: Crew(process=Process.sequential, verbose=True); nothing else to map.
    expect(crew.props.process).toBe('sequential');
    expect(crew.props.planning).toBeUndefined();
    const fn = flow.nodes.find((n) => n.id === 'save_poem')!;
    expect(fn.props.func).toContain('//         with open("poem.txt", "w") as f:');
    expect(fn.props.func).toContain('throw new Error("step \\"save_poem\\" was imported from a CrewAI Flow and still holds Python: port it to JavaScript");');
    expect(unmapped.map((u) => [u.method, u.line])).toEqual([
      ['generate_sentence_count', 20],
      ['generate_poem', 25],
      ['save_poem', 37],
    ]);
    const { issues } = validateFlow(flow, registry);
    expect(issues).toEqual([]);
  });

  it('maps a router to a switch on msg.route, or_ to two wires, and_ to a join, and lists what is not declarative', () => {
    const { flow, unmapped } = importCrewAIFlow(read('router_flow', 'main.py'));
    expect(wiresOf(flow)).toEqual({
      kickoff: [['start_method', 'fetch_leads']],
      start_method: [['second_method']],
      fetch_leads: [['report_and']],
      second_method: [['second_method_route']],
      second_method_route: [['third_method'], ['fourth_method']],
      third_method: [['log_outcome']],
      fourth_method: [['log_outcome']],
      log_outcome: [['report_and']],
      report: [],
      report_and: [['report']],
      dynamic: [],
    });
    expect(flow.nodes.find((n) => n.id === 'second_method_route')!.props.rules).toEqual([
      { t: 'eq', v: 'success', vt: 'str' },
      { t: 'eq', v: 'failed', vt: 'str' },
    ]);
    const reasons = unmapped.map((u) => u.reason);
    expect(reasons).toContain('decorator @persist has no Flowcrew equivalent (persistence is built in: every run is durable)');
    expect(reasons).toContain('and_(...) maps to a join of 2 messages: it waits for that many arrivals, not for one from each listed method');
    expect(reasons).toContain('listener condition lambda: "dynamic" is not declarative (a method, a label, or_ / and_ of them)');
    expect(validateFlow(flow, registry).issues).toEqual([]);
  });

  it("maps the crew's Crew(planning=True, planning_llm=..., process, manager_llm) from its Python, and lists what it does not map", () => {
    const dir = ['planning_flow', 'crews', 'research_crew'];
    const { flow, unmapped } = importCrewAIFlow(read('planning_flow', 'main.py'), {
      'crews/research_crew/config/agents.yaml': read(...dir, 'config', 'agents.yaml'),
      'crews/research_crew/config/tasks.yaml': read(...dir, 'config', 'tasks.yaml'),
      'crews/research_crew/research_crew.py': read(...dir, 'research_crew.py'),
    });
    const crew = flow.nodes.find((n) => n.id === 'research')!;
    expect(crew.type).toBe('ai-crew');
    expect(crew.props).toMatchObject({ process: 'hierarchical', planning: true });
    expect(crew.props.planningModel).toBeUndefined();
    expect(crew.props.manager).toBeUndefined();
    const about = unmapped.filter((u) => u.reason.startsWith('crews/research_crew/research_crew.py'));
    expect(about.map((u) => [u.line, u.reason])).toEqual([
      [32, 'crews/research_crew/research_crew.py: manager_llm "anthropic/claude-3-5-haiku-latest": attach an Anthropic AI model credential to the crew node and set manager.model to "claude-3-5-haiku-latest" (left unset: on the local model the flow starts with, it would name a model file)'],
      [34, 'crews/research_crew/research_crew.py: planning_llm "openai/gpt-4o-mini": attach an OpenAI-compatible AI model credential to the crew node and set planningModel to "gpt-4o-mini" (left unset: on the local model the flow starts with, it would name a model file)'],
      [35, 'crews/research_crew/research_crew.py: Crew(memory=True) is not mapped by the Flows importer: set it on the crew node if it has an equivalent'],
    ]);
    expect(validateFlow(flow, registry).issues).toEqual([]);

    // Without the crew's Python: said so, nothing guessed.
    const bare = importCrewAIFlow(read('planning_flow', 'main.py'));
    expect(bare.flow.nodes.find((n) => n.id === 'research')!.props.planning).toBeUndefined();
    expect(bare.unmapped.map((u) => u.reason)).toContain(
      'crew ResearchCrew: crews/research_crew/research_crew.py not given: its Crew(...) settings (process, planning, planning_llm, manager_llm) are not read; set them on the ai-crew node',
    );
  });

  it('reports a planning_llm that is not written out, and planning_llm without planning', () => {
    const py = 'class C:\n    def crew(self):\n        return Crew(agents=self.agents, tasks=self.tasks, planning_llm=self.llm)\n';
    const { flow, unmapped } = importCrewAIFlow(read('planning_flow', 'main.py'), { 'crews/research_crew/research_crew.py': py });
    expect(flow.nodes.find((n) => n.id === 'research')!.props.planningModel).toBeUndefined();
    expect(unmapped.map((u) => u.reason)).toContain('crews/research_crew/research_crew.py: planning_llm=self.llm is not a model name written out: set planningModel on the crew node');
    expect(unmapped.map((u) => u.reason)).toContain('crews/research_crew/research_crew.py: planning_llm without planning=True has no effect');
  });

  it('maps a crew built inside a Flow method (Agent, Task, Crew there) onto an ai-crew node whose CrewAI import maps each field', () => {
    const { flow, unmapped } = importCrewAIFlow(read('inline_crew_flow', 'main.py'));
    expect(flow.nodes.map((n) => [n.id, n.type])).toEqual([
      ['kickoff', 'inject'],
      ['pick_market', 'function'],
      ['analyse', 'ai-crew'],
      ['publish', 'function'],
    ]);
    expect(wiresOf(flow)).toEqual({ kickoff: [['pick_market']], pick_market: [['analyse']], analyse: [['publish']], publish: [] });
    const crew = flow.nodes.find((n) => n.id === 'analyse')!;
    expect(crew.props).toMatchObject({ source: 'crewai', process: 'sequential', planning: true });
    const { agentsYaml, tasksYaml } = crew.props.crewai as { agentsYaml: string; tasksYaml: string };
    // The variables are the keys; the fields go through the same table as a real agents.yaml / tasks.yaml.
    const imported = importCrewAI(agentsYaml, tasksYaml);
    expect(imported.agents.map((a) => [a.key, a.role, a.goal])).toEqual([
      ['analyst', 'Market Analyst', "Find the {market} market's main trends"],
      ['writer', 'Writer', 'Write a short brief'],
    ]);
    expect(imported.agents[0]).toMatchObject({ backstory: 'You have followed the {market} market for ten years.\nYou cite numbers.', maxIterations: 5 });
    expect(imported.agents[1]).toMatchObject({ maxRpm: 10 });
    expect(imported.tasks.map((t) => [t.key, t.agent, t.context])).toEqual([
      ['research', 'analyst', undefined],
      ['brief', 'writer', ['research']],
    ]);
    expect(imported.tasks[1]!.description).toBe("Write a brief on {self.state['market']}.");
    const notes = imported.notes.map((n) => n.message).join('\n');
    expect(notes).toMatch(/"SerperDevTool\(\)" is a Python tool/);
    expect(notes).toMatch(/gpt-4o-mini/);
    // What the Python holds is listed, by line: the f-string, the Crew's memory=, the code around the kickoff.
    const reasons = unmapped.filter((u) => u.method === 'analyse').map((u) => [u.line, u.reason]);
    expect(reasons).toEqual([
      [32, expect.stringMatching(/^method analyse: task brief: description is an f-string: its \{…\} are Python expressions/)],
      [38, 'method analyse: Crew(memory=True) is not mapped by the Flows importer: set it on the crew node if it has an equivalent'],
      [16, expect.stringMatching(/^the Python around the crew/)],
    ]);
    expect(validateFlow(flow, registry).issues).toEqual([]);
  });

  it('refuses a file without a Flow class', () => {
    expect(() => importCrewAIFlow('class Foo:\n    pass\n')).toThrow('no class deriving from crewai Flow found in the file');
  });
});
