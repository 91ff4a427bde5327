/**
 * Per-project environment variables through the API of a real runtime: what flows read ($env in JSONata, the env
 * typed value, `${NAME}` as a whole property), secret ones in the vault and redacted, the process environment only
 * where the administrator passed it through, applied at deploy, permissions and audit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

const PASSED = `FLOWCREW_TEST_PASSED_${process.pid}`;
const HIDDEN = `FLOWCREW_TEST_HIDDEN_${process.pid}`;

const flow = (id: string, projectId = 'shop') => ({
  id,
  name: id,
  projectId,
  nodes: [
    { id: 'in', type: 'inject', wires: [['set']] },
    {
      id: 'set',
      type: 'change',
      props: {
        rules: [
          { t: 'set', p: 'payload', pt: 'msg', to: '$env("GREETING") & " from " & $env("REGION")', tot: 'jsonata' },
          { t: 'set', p: 'api', pt: 'msg', to: '${API_URL}/orders', tot: 'env' },
          { t: 'set', p: 'region', pt: 'msg', to: '${REGION}', tot: 'str' },
          { t: 'set', p: 'key', pt: 'msg', to: 'API_KEY', tot: 'env' },
          { t: 'set', p: 'passed', pt: 'msg', to: PASSED, tot: 'env' },
          { t: 'set', p: 'hidden', pt: 'msg', to: HIDDEN, tot: 'env' },
        ],
      },
      wires: [['out']],
    },
    { id: 'out', type: 'debug' },
  ],
});

describe('per-project environment variables', () => {
  let server: TestServer;

  /** Run the flow once; the message the change node sent. */
  async function output(flowId: string): Promise<Record<string, unknown>> {
    const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, {});
    expect(started.status).toBe(202);
    const run = await server.waitRun(started.body.runId, 30_000);
    expect(run.status).toBe('succeeded');
    return run.invocations.find((i: { nodeId: string }) => i.nodeId === 'set').outputs[0].msg;
  }

  beforeAll(async () => {
    process.env[PASSED] = 'from the host';
    process.env[HIDDEN] = 'must stay hidden';
    server = await startTestServer({}, { env: { FLOWCREW_ENV_PASSTHROUGH: `${PASSED.slice(0, 20)}*` } });
    expect((await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'shop' })).status).toBe(201);
  }, 60_000);

  afterAll(async () => {
    delete process.env[PASSED];
    delete process.env[HIDDEN];
    await server?.stop();
  });

  it('flows read the project variables, secrets from the vault (redacted), and only passed-through host variables', async () => {
    for (const [name, value] of Object.entries({ GREETING: 'hello', REGION: 'eu', API_URL: 'https://api.dev.example' })) {
      expect((await server.api('PUT', `/api/v1/projects/shop/variables/${name}`, { value })).status).toBe(200);
    }
    const secret = await server.api('PUT', '/api/v1/projects/shop/variables/API_KEY', { value: 'sk-dev-0123456789', secret: true, description: 'CRM key' });
    expect(secret.status).toBe(200);
    expect(secret.body).toMatchObject({ name: 'API_KEY', secret: true, value: null, description: 'CRM key' });
    expect((await server.api('POST', '/api/v1/flows', flow('greet'))).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/greet/deploy')).status).toBe(200);

    const msg = await output('greet');
    expect(msg).toMatchObject({ payload: 'hello from eu', api: 'https://api.dev.example/orders', region: 'eu', passed: 'from the host', hidden: '' });
    // The node had the secret; what is stored of the run has it redacted.
    expect(msg.key).toBe('[redacted]');

    const listed = (await server.api('GET', '/api/v1/projects/shop/variables')).body;
    expect(listed.map((v: { name: string }) => v.name)).toEqual(['API_KEY', 'API_URL', 'GREETING', 'REGION']);
    expect(JSON.stringify(listed)).not.toContain('sk-dev-0123456789');
    const credential = (await server.api('GET', '/api/v1/credentials')).body.find((c: { type: string }) => c.type === 'environment-variable');
    expect(credential).toMatchObject({ projectId: 'shop', fields: ['value'] });
  });

  it('a changed variable applies at the next deploy', async () => {
    expect((await server.api('PUT', '/api/v1/projects/shop/variables/GREETING', { value: 'bonjour' })).status).toBe(200);
    expect((await output('greet')).payload).toBe('hello from eu');
    expect((await server.api('POST', '/api/v1/flows/greet/deploy')).status).toBe(200);
    expect((await output('greet')).payload).toBe('bonjour from eu');
  });

  it('variables belong to their project: another project reads none of them', async () => {
    expect((await server.api('POST', '/api/v1/projects', { id: 'other', name: 'other' })).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows', flow('elsewhere', 'other'))).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/elsewhere/deploy')).status).toBe(200);
    expect(await output('elsewhere')).toMatchObject({ payload: ' from ', api: '/orders', region: '${REGION}', key: '', passed: 'from the host' });
  });

  it('bad names are a 422 naming the field; viewers read but cannot write; changes are audited without values', async () => {
    const bad = await server.api('PUT', '/api/v1/projects/shop/variables/1BAD', { value: 'x' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].pointer).toBe('/name');
    const viewer = await server.userWith(`viewer-${process.pid}`, { projects: { shop: 'viewer' } });
    expect((await server.apiAs(viewer.credentials, 'GET', '/api/v1/projects/shop/variables')).status).toBe(200);
    expect((await server.apiAs(viewer.credentials, 'PUT', '/api/v1/projects/shop/variables/REGION', { value: 'us' })).status).toBe(403);
    expect((await server.api('DELETE', '/api/v1/projects/shop/variables/API_KEY')).status).toBe(204);
    expect((await server.api('GET', '/api/v1/credentials')).body.some((c: { type: string }) => c.type === 'environment-variable')).toBe(false);
    const audit = (await server.api('GET', '/api/v1/audit?limit=200')).body;
    const entries = audit.entries as Array<{ action: string }>;
    expect(entries.some((e) => e.action === 'variable.set')).toBe(true);
    expect(entries.some((e) => e.action === 'variable.delete')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('sk-dev-0123456789');
  });
});
