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

  it('refuses a file without a Flow class', () => {
    expect(() => importCrewAIFlow('class Foo:\n    pass\n')).toThrow('no class deriving from crewai Flow found in the file');
  });
});
