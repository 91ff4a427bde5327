/**
 * Webhook authentication, content types and size limits through a real runtime: credentials and flows are created
 * through the API, requests are sent over HTTP exactly as a sender would (raw bodies, own headers).
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';

let server: TestServer;
const SECRETS = { password: 'correct horse battery staple', token: 'tok_4f9b1c7e2d8a6b3f', hmac: 'whsec_7Jq2pX9vL4mN8rT1', github: 'gh-hook-secret-31415', slack: 'slack-signing-secret-271' };

async function credential(name: string, fields: Record<string, string>): Promise<string> {
  const created = await server.api('POST', '/api/v1/credentials', { name, type: 'webhook-auth', fields });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

const hook = (id: string, url: string, props: Record<string, unknown> = {}, credentials?: string) => ({
  id,
  type: 'webhook',
  name: id,
  props: { method: 'POST', url, ...props },
  ...(credentials ? { credentials } : {}),
  wires: [],
});

async function deploy(id: string, nodes: unknown[]): Promise<void> {
  const created = await server.api('POST', '/api/v1/flows', { id, name: id, version: 0, settings: {}, nodes });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  const deployed = await server.api('POST', `/api/v1/flows/${id}/deploy`);
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
}

async function post(path: string, body: string | Uint8Array<ArrayBuffer> | undefined, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(`${server.url}/webhook${path}`, { method: 'POST', headers, body });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

async function runCount(flowId: string): Promise<number> {
  return (await server.api('GET', `/api/v1/runs?flowId=${flowId}&limit=500`)).body.length;
}

const now = () => Math.floor(Date.now() / 1000);
function flowcrewSignature(secret: string, timestamp: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { 'content-type': 'application/json', 'x-flowcrew-timestamp': String(timestamp), 'x-flowcrew-signature': `sha256=${signature}` };
}

/** A 401 says nothing about which check failed. */
function expectBareUnauthorized(res: { status: number; text: string }) {
  expect(res.status).toBe(401);
  expect(JSON.parse(res.text)).toEqual({ type: 'about:blank', title: 'Unauthorized', status: 401, detail: 'this webhook requires authentication' });
}

beforeAll(async () => {
  server = await startTestServer({ bodyLimit: '64kb' });
  const basic = await credential('basic', { username: 'sender', password: SECRETS.password });
  const header = await credential('header', { header: 'X-Api-Key', token: SECRETS.token });
  const bearer = await credential('bearer', { token: SECRETS.token });
  const hmac = await credential('hmac', { secret: SECRETS.hmac });
  const github = await credential('github', { secret: SECRETS.github });
  const slack = await credential('slack', { secret: SECRETS.slack });
  await deploy('auth-hooks', [
    hook('open', '/open'),
    hook('basic', '/basic', { auth: 'basic' }, basic),
    hook('header', '/header', { auth: 'header' }, header),
    hook('bearer', '/bearer', { auth: 'header' }, bearer),
    hook('hmac', '/hmac', { auth: 'hmac' }, hmac),
    hook('github', '/github', { auth: 'hmac', hmac: { scheme: 'github' } }, github),
    hook('slack', '/slack', { auth: 'hmac', hmac: { scheme: 'slack' } }, slack),
  ]);
  await deploy('type-hooks', [
    hook('json-only', '/json-only', { accept: ['application/json'] }),
    hook('defaults', '/defaults'),
    hook('multipart', '/multipart', { accept: ['multipart/form-data'] }),
    hook('small', '/small', { maxBodySize: '1kb' }),
    hook('big', '/big', { maxBodySize: '10mb' }),
  ]);
});
afterAll(async () => {
  await server?.stop();
});

describe('webhook authentication', () => {
  it('a webhook without auth stays open', async () => {
    expect((await post('/open', '{"a":1}', { 'content-type': 'application/json' })).status).toBe(202);
  });

  it('basic: the right username and password start a run; wrong or missing ones get a bare 401 and start nothing', async () => {
    const before = await runCount('auth-hooks');
    const basic = (user: string, password: string) => ({ 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });
    const ok = await post('/basic', '{"a":1}', basic('sender', SECRETS.password));
    expect(ok.status).toBe(202);
    const wrongPassword = await post('/basic', '{"a":1}', basic('sender', 'guess'));
    expectBareUnauthorized(wrongPassword);
    expect(wrongPassword.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
    expectBareUnauthorized(await post('/basic', '{"a":1}', basic('someone', SECRETS.password)));
    expectBareUnauthorized(await post('/basic', '{"a":1}', { 'content-type': 'application/json' }));
    expectBareUnauthorized(await post('/basic', '{"a":1}', { 'content-type': 'application/json', authorization: 'Basic !!!' }));
    expect(await runCount('auth-hooks')).toBe(before + 1);
    // The verified Authorization header is not kept in the run record.
    const run = await server.waitRun(JSON.parse(ok.text).runId);
    expect(JSON.stringify(run)).not.toContain(Buffer.from(`sender:${SECRETS.password}`).toString('base64'));
  });

  it('header token: the right token in the declared header passes; a wrong, missing or misplaced one does not', async () => {
    const before = await runCount('auth-hooks');
    const ok = await post('/header', '{}', { 'content-type': 'application/json', 'x-api-key': SECRETS.token });
    expect(ok.status).toBe(202);
    expectBareUnauthorized(await post('/header', '{}', { 'content-type': 'application/json', 'x-api-key': `${SECRETS.token}x` }));
    expectBareUnauthorized(await post('/header', '{}', { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.token}` }));
    expectBareUnauthorized(await post('/header', '{}', { 'content-type': 'application/json' }));
    // The default header is Authorization, where "Bearer <token>" is accepted too.
    expect((await post('/bearer', '{}', { 'content-type': 'application/json', authorization: `Bearer ${SECRETS.token}` })).status).toBe(202);
    expect((await post('/bearer', '{}', { 'content-type': 'application/json', authorization: SECRETS.token })).status).toBe(202);
    expectBareUnauthorized(await post('/bearer', '{}', { 'content-type': 'application/json', authorization: 'Bearer nope' }));
    expect(await runCount('auth-hooks')).toBe(before + 3);
    const run = await server.waitRun(JSON.parse(ok.text).runId);
    expect(JSON.stringify(run)).not.toContain(SECRETS.token);
  });

  it('HMAC: a signed request passes once; its replay, a tampered body, a re-signed body and stale timestamps do not', async () => {
    const before = await runCount('auth-hooks');
    const body = '{"order":"A-1","amount":100}';
    const signed = flowcrewSignature(SECRETS.hmac, now(), body);
    const ok = await post('/hmac', body, signed);
    expect(ok.status).toBe(202);
    const run = await server.waitRun(JSON.parse(ok.text).runId);
    expect(run.input.payload).toEqual({ order: 'A-1', amount: 100 });

    expectBareUnauthorized(await post('/hmac', body, signed)); // replay within the window
    expectBareUnauthorized(await post('/hmac', '{"order":"A-1","amount":1}', signed)); // tampered body, original signature
    expectBareUnauthorized(await post('/hmac', '{"order":"A-1","amount":1}', flowcrewSignature('a guessed secret', now(), '{"order":"A-1","amount":1}'))); // re-signed
    expectBareUnauthorized(await post('/hmac', body, { ...signed, 'x-flowcrew-timestamp': String(now() + 1) })); // timestamp changed
    expectBareUnauthorized(await post('/hmac', body, flowcrewSignature(SECRETS.hmac, now() - 600, body))); // 10 minutes old
    expectBareUnauthorized(await post('/hmac', body, flowcrewSignature(SECRETS.hmac, now() + 600, body))); // 10 minutes ahead
    expectBareUnauthorized(await post('/hmac', body, { 'content-type': 'application/json' }));
    // A different body, freshly and correctly signed, passes: the memory is of signatures, not of senders.
    expect((await post('/hmac', '{"order":"A-2"}', flowcrewSignature(SECRETS.hmac, now(), '{"order":"A-2"}'))).status).toBe(202);
    expect(await runCount('auth-hooks')).toBe(before + 2);
  });

  it('HMAC, GitHub style (X-Hub-Signature-256 over the body) and Slack style (v0:timestamp:body)', async () => {
    const body = '{"action":"opened","number":7}';
    const github = { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${createHmac('sha256', SECRETS.github).update(body).digest('hex')}` };
    expect((await post('/github', body, github)).status).toBe(202);
    expectBareUnauthorized(await post('/github', body, github));
    expectBareUnauthorized(await post('/github', '{"action":"closed","number":7}', github));

    const form = 'command=%2Fdeploy&text=prod';
    const ts = String(now());
    const slack = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': ts, 'x-slack-signature': `v0=${createHmac('sha256', SECRETS.slack).update(`v0:${ts}:${form}`).digest('hex')}` };
    const ok = await post('/slack', form, slack);
    expect(ok.status).toBe(202);
    expect((await server.waitRun(JSON.parse(ok.text).runId)).input.payload).toEqual({ command: '/deploy', text: 'prod' });
    expectBareUnauthorized(await post('/slack', form, slack));
  });

  it('an unauthenticated caller learns nothing else: wrong content types and huge bodies also get 401 first', async () => {
    expectBareUnauthorized(await post('/header', 'x'.repeat(100_000), { 'content-type': 'application/octet-stream' }));
    expectBareUnauthorized(await post('/hmac', 'plain', { 'content-type': 'text/csv' }));
  });
});

describe('webhook content types', () => {
  it('a type the webhook does not accept is 415, naming what it accepts', async () => {
    const before = await runCount('type-hooks');
    const res = await post('/json-only', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(415);
    expect(JSON.parse(res.text).detail).toBe('Content-Type application/x-www-form-urlencoded is not accepted by this webhook; it accepts application/json');
    expect(res.headers.get('accept-post')).toBe('application/json');
    expect((await post('/json-only', '{"a":1}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('/json-only', '{"a":1}', {})).status).toBe(415); // fetch sends text/plain for a string
    expect((await post('/json-only', new TextEncoder().encode('{"a":1}'), {})).status).toBe(415); // no Content-Type at all
    expect((await post('/json-only', '{"a":1}', { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(415);
    expect((await post('/json-only', '{"a":1}', { 'content-type': 'application/json; charset=latin1' })).status).toBe(415);
    expect(await runCount('type-hooks')).toBe(before);
  });

  it('a JSON content type with a body that is not JSON is 400, never read as something else', async () => {
    const res = await post('/json-only', 'a=1&files[0][path]=/etc/passwd', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ title: 'Malformed body', errors: [{ pointer: '/' }] });
    expect((await post('/json-only', '\xff\xfe', { 'content-type': 'application/json' })).status).toBe(400);
  });

  it('by default JSON, forms and plain text are accepted, each parsed as itself; multipart is refused', async () => {
    const json = await post('/defaults', '{"files":[{"filepath":"/etc/passwd"}]}', { 'content-type': 'application/json' });
    const run = await server.waitRun(JSON.parse(json.text).runId);
    // A body field named "files" stays in the payload: nothing in the body becomes request metadata.
    expect(run.input.payload).toEqual({ files: [{ filepath: '/etc/passwd' }] });
    expect(run.input.req.files).toBeUndefined();
    const form = await post('/defaults', 'a=1&b[c]=2&__proto__[x]=1', { 'content-type': 'application/x-www-form-urlencoded' });
    expect((await server.waitRun(JSON.parse(form.text).runId)).input.payload).toEqual({ a: '1', b: { c: '2' } });
    const text = await post('/defaults', 'hello', { 'content-type': 'text/plain; charset=utf-8' });
    expect((await server.waitRun(JSON.parse(text.text).runId)).input.payload).toBe('hello');
    const multipart = new FormData();
    multipart.set('a', '1');
    const res = await fetch(`${server.url}/webhook/defaults`, { method: 'POST', body: multipart });
    expect(res.status).toBe(415);
  });

  it('multipart, when declared, gives fields as the payload and files on msg.req.files', async () => {
    const form = new FormData();
    form.set('title', 'report');
    form.set('doc', new Blob(['col1,col2\n1,2\n'], { type: 'text/csv' }), 'report.csv');
    const res = await fetch(`${server.url}/webhook/multipart`, { method: 'POST', body: form });
    expect(res.status).toBe(202);
    const run = await server.waitRun((await res.json()).runId);
    expect(run.input.payload).toEqual({ title: 'report' });
    expect(run.input.req.files).toEqual([{ field: 'doc', filename: 'report.csv', mimeType: 'text/csv', size: 14, data: Buffer.from('col1,col2\n1,2\n').toString('base64') }]);
    expect((await post('/multipart', '--x\r\nbroken', { 'content-type': 'multipart/form-data' })).status).toBe(400);
  });
});

describe('webhook body size', () => {
  it('a body over the webhook\'s own limit is 413; the runtime limit caps a larger webhook limit', async () => {
    const before = await runCount('type-hooks');
    expect((await post('/small', JSON.stringify({ s: 'x'.repeat(900) }), { 'content-type': 'application/json' })).status).toBe(202);
    const over = await post('/small', JSON.stringify({ s: 'x'.repeat(2000) }), { 'content-type': 'application/json' });
    expect(over.status).toBe(413);
    expect(JSON.parse(over.text).detail).toBe("the request body exceeds this webhook's limit of 1024 bytes");
    expect((await post('/big', JSON.stringify({ s: 'x'.repeat(50_000) }), { 'content-type': 'application/json' })).status).toBe(202);
    expect((await post('/big', JSON.stringify({ s: 'x'.repeat(70_000) }), { 'content-type': 'application/json' })).status).toBe(413);
    expect(await runCount('type-hooks')).toBe(before + 2);
  });

  it('a chunked body without Content-Length is cut off at the limit too', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${server.url}/webhook/small`, { method: 'POST', headers: { 'content-type': 'text/plain' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 10; i++) req.write('y'.repeat(500));
      req.end();
    });
    expect(status).toBe(413);
  });
});
