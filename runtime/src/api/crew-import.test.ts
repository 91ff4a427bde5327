/**
 * A CrewAI project brought in through the API, as a new user would: validation refuses what deploy would (a
 * sequential crew whose tasks.yaml names no agents), with a pointer into the crew node; once the crew node assigns
 * the agents it validates, imports and deploys, and the CrewAI fields it does not apply come back as warnings in
 * the validate and import responses, not only in the log.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const fixtures = path.resolve(import.meta.dirname, '..', '..', '..', 'nodes', 'ai', 'src', 'crew', 'fixtures');
const read = (dir: string, file: string) => readFileSync(path.join(fixtures, dir, file), 'utf8');

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({}, { loadExamples: false });
});
afterAll(async () => {
  await server?.stop();
});

function crewFlow(id: string, dir: string, props: Record<string, unknown> = {}) {
  return {
    id,
    name: id,
    version: 0,
    nodes: [
      { id: 'crew', type: 'ai-crew', position: { x: 0, y: 0 }, props: { source: 'crewai', crewai: { agentsYaml: read(dir, 'agents.yaml'), tasksYaml: read(dir, 'tasks.yaml') }, ...props }, wires: [] },
    ],
  };
}

const ASSIGNED = {
  tasks: [
    { key: 'research_task', agent: 'lead_market_analyst' },
    { key: 'project_understanding_task', agent: 'chief_content_strategist' },
    { key: 'marketing_strategy_task', agent: 'chief_content_strategist' },
  ],
};

describe('a CrewAI crew through the API', () => {
  it('is refused at validate, save and import when a sequential crew\'s tasks have no agent, with a pointer into the crew node', async () => {
    const doc = crewFlow('marketing', 'no-agent-lines');
    const validated = await server.api('POST', '/api/v1/flows/validate', doc);
    expect(validated.status).toBe(422);
    expect(validated.body.valid).toBe(false);
    expect(validated.body.issues).toEqual([
      { pointer: '/nodes/0/props/tasks', nodeId: 'crew', message: expect.stringMatching(/^tasks\.yaml line 2: task "research_task" has no agent, and a sequential crew needs one per task: assign one in the crew node/) },
      { pointer: '/nodes/0/props/tasks', nodeId: 'crew', message: expect.stringMatching(/^tasks\.yaml line 9: task "project_understanding_task" has no agent/) },
      { pointer: '/nodes/0/props/tasks', nodeId: 'crew', message: expect.stringMatching(/^tasks\.yaml line 15: task "marketing_strategy_task" has no agent/) },
    ]);
    const saved = await server.api('POST', '/api/v1/flows', doc);
    expect(saved.status).toBe(422);
    expect(saved.body.errors[0]).toMatchObject({ pointer: '/nodes/0/props/tasks', nodeId: 'crew' });
    const imported = await server.api('POST', '/api/v1/flows/import', doc);
    expect(imported.status).toBe(422);
    expect(imported.body.errors).toHaveLength(3);
    expect((await server.api('GET', '/api/v1/flows/marketing')).status).toBe(404);
  });

  it('validates, imports and deploys once the crew node assigns the agents', async () => {
    const doc = crewFlow('marketing', 'no-agent-lines', ASSIGNED);
    const validated = await server.api('POST', '/api/v1/flows/validate', doc);
    expect(validated.status).toBe(200);
    expect(validated.body).toEqual({ valid: true, issues: [], warnings: [] });
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', doc);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.flows).toEqual([{ id: 'marketing', name: 'marketing', version: 1, deployed: true }]);
  });

  it('returns the CrewAI fields it does not apply as warnings from validate and import', async () => {
    const doc = crewFlow('report', 'latest-ai-development');
    const validated = await server.api('POST', '/api/v1/flows/validate', doc);
    expect(validated.status).toBe(200);
    expect(validated.body.warnings).toEqual([
      {
        pointer: '/nodes/0/props/crewai/tasksYaml',
        nodeId: 'crew',
        message: 'tasks.yaml line 19: reporting_task.output_file: ignored: a task does not write files; take the answer from msg.crew.tasks and send it to the node that should store it',
      },
    ]);
    const imported = await server.api('POST', '/api/v1/flows/import', [doc]);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.warnings).toEqual([
      'node "crew" at /0/nodes/0/props/crewai/tasksYaml: tasks.yaml line 19: reporting_task.output_file: ignored: a task does not write files; take the answer from msg.crew.tasks and send it to the node that should store it',
    ]);
  });
});
