/**
 * A deploy that cannot start names EVERY node in the way, each with its id, name and reason (issue 11: a user fixes
 * everything in one pass): both MQTT nodes of a Node-RED export lacking their broker credential, a credential id that
 * does not exist. Through the API, as a user meets it: import with deploy, deploy of a stored flow, validate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { deployReadinessIssues } from './deploy-readiness.ts';
import { mqttSensors } from './fixtures/node-red-library.ts';

type Issue = { pointer: string; message: string; nodeId?: string };

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

const MQTT_IN = 'c0c0c0c0c0c0c001';
const MQTT_OUT = 'c0c0c0c0c0c0c006';

describe('deploy readiness: every node a deploy would refuse, together', () => {
  it('an import with deploy names both MQTT nodes lacking a credential, with id, name and reason; nothing is stored', async () => {
    const answer = await server.api('POST', '/api/v1/flows/import?deploy=true', mqttSensors());
    expect(answer.status).toBe(422);
    const errors = answer.body.errors as Issue[];
    expect(errors.map((e) => e.nodeId)).toEqual([MQTT_IN, MQTT_OUT]);
    expect(errors[0]!.message).toBe(`node "${MQTT_IN}" ("temperatures"): node type "mqtt-subscribe" needs a credential of type "mqtt": attach one`);
    expect(errors[1]!.message).toBe(`node "${MQTT_OUT}": node type "mqtt-publish" needs a credential of type "mqtt": attach one`);
    expect(errors.every((e) => /^\/flows\/0\/nodes\/\d+\/credentials$/.test(e.pointer))).toBe(true);
    expect(answer.body.detail).toContain('2 node(s) cannot be deployed');
    const flows = (await server.api('GET', '/api/v1/flows')).body as Array<{ name?: string }>;
    expect(flows.some((f) => f.name === 'Sensors')).toBe(false);
  });

  it('the same export stored, then deployed: both nodes again; validate lists them as warnings and keeps the flow valid', async () => {
    const imported = await server.api('POST', '/api/v1/flows/import', mqttSensors());
    expect(imported.status).toBe(201);
    const id = (imported.body.flows as Array<{ id: string }>)[0]!.id;
    const deploy = await server.api('POST', `/api/v1/flows/${id}/deploy`);
    expect(deploy.status).toBe(422);
    expect(deploy.body.title).toBe('Deploy failed');
    expect((deploy.body.errors as Issue[]).map((e) => e.nodeId)).toEqual([MQTT_IN, MQTT_OUT]);

    const stored = (await server.api('GET', `/api/v1/flows/${id}`)).body as Record<string, unknown>;
    const { deployed: _d, deployedVersion: _v, updatedAt: _u, projectId: _p, ...doc } = stored;
    const validated = await server.api('POST', '/api/v1/flows/validate', doc);
    expect(validated.status).toBe(200);
    expect(validated.body.valid).toBe(true);
    const warned = (validated.body.warnings as Issue[]).filter((w) => w.message.includes('needs a credential'));
    expect(warned.map((w) => w.nodeId)).toEqual([MQTT_IN, MQTT_OUT]);
  });

  it('nodes that fail to create (exec not allowed here) are each named, the rest closed, nothing deployed', async () => {
    const flow = {
      id: 'two-execs',
      name: 'Two execs',
      nodes: [
        { id: 'x1', type: 'exec', name: 'convert', props: { command: 'convert in.png out.jpg' }, wires: [[], [], []] },
        { id: 'ok', type: 'debug' },
        { id: 'x2', type: 'exec', props: { command: 'report' }, wires: [[], [], []] },
      ],
    };
    const created = await server.api('POST', '/api/v1/flows', flow);
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const deploy = await server.api('POST', '/api/v1/flows/two-execs/deploy');
    expect(deploy.status).toBe(422);
    const errors = deploy.body.errors as Issue[];
    expect(errors.map((e) => [e.nodeId, e.pointer])).toEqual([['x1', '/nodes/0'], ['x2', '/nodes/2']]);
    for (const e of errors) expect(e.message).toContain('FLOWCREW_EXEC_COMMANDS');
    expect(deploy.body.detail).toContain('node "x1"');
    expect(deploy.body.detail).toContain('node "x2"');
    expect((await server.api('GET', '/api/v1/flows/two-execs')).body.deployed).toBe(false);
    // Imported with deploy: the same two nodes, under the import's pointers.
    const imported = await server.api('POST', '/api/v1/flows/import?deploy=true', { ...flow, id: 'two-execs-again' });
    expect(imported.status).toBe(422);
    expect((imported.body.errors as Issue[]).map((e) => e.nodeId)).toEqual(['x1', 'x2']);
  });

  it('credentials that do not exist, on the node and in its props, each reported; disabled and unknown nodes skipped', async () => {
    const definitions: Record<string, { credentials?: { type: string; required?: boolean; inProps?: string[] } }> = {
      needs: { credentials: { type: 'mqtt', required: true } },
      crew: { credentials: { type: 'ai-model', inProps: ['/agents/*/credential'] } },
      plain: {},
    };
    const existing = new Set(['known']);
    const lookups: string[] = [];
    const issues = await deployReadinessIssues(
      {
        nodes: [
          { id: 'a', type: 'needs', name: 'A', credentials: 'gone' },
          { id: 'b', type: 'needs', disabled: true },
          { id: 'c', type: 'crew', props: { agents: [{ credential: 'known' }, { credential: 'gone' }] } },
          { id: 'd', type: 'nowhere' },
          { id: 'e', type: 'plain' },
        ],
      },
      (type) => definitions[type] as never,
      async (id) => (lookups.push(id), existing.has(id)),
    );
    expect(issues).toEqual([
      { pointer: '/nodes/0/credentials', message: 'node "a" ("A"): credential "gone" does not exist', nodeId: 'a' },
      { pointer: '/nodes/2/props/agents/1/credential', message: 'node "c": credential "gone" (props/agents/1/credential) does not exist', nodeId: 'c' },
    ]);
    expect(lookups).toEqual(['gone', 'known']); // each id asked once
  });
});
