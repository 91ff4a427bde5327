import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { WebhookRequest } from '@flowcrew/sdk';
import { webhookNode } from './webhook.ts';

const request = (over: Partial<WebhookRequest>): WebhookRequest => ({
  method: 'POST',
  path: '/orders/42',
  params: { id: '42' },
  query: { verbose: '1' },
  headers: { 'content-type': 'application/json' },
  body: { item: 'book' },
  ...over,
});
const responseNode = { id: 'r1', type: 'webhook-response', name: 'respond', props: {} };

describe('webhook node', () => {
  it('registers its route on start and removes it on stop (Node-RED\'s lower-case method accepted)', async () => {
    const node = await createTestNode(webhookNode, { method: 'put', url: '/orders/:id' });
    await node.start();
    expect(node.webhooks.map((w) => [w.method, w.path])).toEqual([['PUT', '/orders/:id']]);
    await node.stop();
    expect(node.webhooks).toEqual([]);
  });

  it('starts a run with the body as payload and answers 202 with the run id when nothing responds', async () => {
    const node = await createTestNode(webhookNode, { url: '/orders/:id' });
    await node.start();
    const reply = await node.webhooks[0]!.handle(request({}));
    expect(reply).toEqual({ status: 202, body: { runId: 'run-1' } });
    expect(node.emitted).toEqual([
      {
        msg: {
          payload: { item: 'book' },
          req: { method: 'POST', path: '/orders/42', params: { id: '42' }, query: { verbose: '1' }, headers: { 'content-type': 'application/json' } },
          _webhook: true,
        },
        options: { awaitReply: false, replyTimeoutMs: 30000 },
      },
    ]);
  });

  it('puts the query on payload for GET, and lets the actual method decide for ALL', async () => {
    const get = await createTestNode(webhookNode, { method: 'GET', url: '/search' });
    await get.start();
    await get.webhooks[0]!.handle(request({ method: 'GET', query: { q: 'x' }, body: undefined }));
    expect(get.emitted[0]!.msg.payload).toEqual({ q: 'x' });

    const all = await createTestNode(webhookNode, { method: 'ALL', url: '/any' });
    await all.start();
    await all.webhooks[0]!.handle(request({ method: 'GET', query: { q: 'y' } }));
    await all.webhooks[0]!.handle(request({ method: 'PATCH', body: 'raw' }));
    expect(all.emitted.map((e) => e.msg.payload)).toEqual([{ q: 'y' }, 'raw']);
  });

  it('waits for the webhook-response node when the flow has one', async () => {
    const node = await createTestNode(
      webhookNode,
      { url: '/hook', responseTimeoutMs: 5000 },
      {
        flowNodes: [responseNode],
        onEmit: async () => ({ runId: 'r', reply: Promise.resolve({ status: 201, headers: { 'x-a': '1' }, body: { ok: true } }) }),
      },
    );
    await node.start();
    expect(await node.webhooks[0]!.handle(request({}))).toEqual({ status: 201, headers: { 'x-a': '1' }, body: { ok: true } });
    expect(node.emitted[0]!.options).toEqual({ awaitReply: true, replyTimeoutMs: 5000 });
  });

  it('answers 504 when no response comes in time, and 500 when the run fails', async () => {
    const failing = (error: Error) =>
      createTestNode(webhookNode, { url: '/hook' }, { flowNodes: [responseNode], onEmit: async () => ({ runId: 'r', reply: Promise.reject(error) }) });
    const slow = await failing(new Error('no response within 30000 ms'));
    await slow.start();
    expect(await slow.webhooks[0]!.handle(request({}))).toEqual({ status: 504, body: { error: 'no response within 30000 ms' } });
    const broken = await failing(new Error('node "f1" failed: boom'));
    await broken.start();
    expect(await broken.webhooks[0]!.handle(request({}))).toEqual({ status: 500, body: { error: 'node "f1" failed: boom' } });
  });

  it('answers 500 when the run cannot be started', async () => {
    const node = await createTestNode(webhookNode, { url: '/hook' }, { onEmit: async () => Promise.reject(new Error('storage unavailable')) });
    await node.start();
    expect(await node.webhooks[0]!.handle(request({}))).toEqual({ status: 500, body: { error: 'storage unavailable' } });
  });

  it('rejects a path that does not start with /', async () => {
    await expect(createTestNode(webhookNode, { url: 'orders' })).rejects.toThrow(/must start with "\/"/);
  });
});

describe('webhook node: authentication, content types and size, declared to the runtime', () => {
  it('declares no auth, the default content types and no own size limit by default', async () => {
    const node = await createTestNode(webhookNode, { url: '/hook' });
    await node.start();
    const { auth, accept, maxBodyBytes } = node.webhooks[0]!;
    expect({ auth, accept, maxBodyBytes }).toEqual({ auth: { type: 'none' }, accept: ['application/json', 'application/x-www-form-urlencoded', 'text/plain'], maxBodyBytes: undefined });
  });

  it('takes each mode\'s secrets from its webhook-auth credential', async () => {
    const route = async (props: Record<string, unknown>, credentials: Record<string, unknown>) => {
      const node = await createTestNode(webhookNode, { url: '/hook', ...props }, { credentials });
      await node.start();
      return node.webhooks[0]!;
    };
    expect((await route({ auth: 'basic' }, { username: 'u', password: 'p' })).auth).toEqual({ type: 'basic', username: 'u', password: 'p' });
    expect((await route({ auth: 'header' }, { header: 'X-Key', token: 't' })).auth).toEqual({ type: 'header', header: 'X-Key', token: 't' });
    expect((await route({ auth: 'header' }, { token: 't' })).auth).toEqual({ type: 'header', header: 'Authorization', token: 't' });
    expect((await route({ auth: 'hmac', hmac: { scheme: 'github' } }, { secret: 's' })).auth).toEqual({ type: 'hmac', secret: 's', scheme: 'github' });
    const limited = await route({ accept: ['Application/JSON', 'multipart/form-data'], maxBodySize: '64kb' }, {});
    expect([limited.accept, limited.maxBodyBytes]).toEqual([['application/json', 'multipart/form-data'], 65536]);
  });

  it('does not deploy when the mode\'s secret is missing (it never answers unauthenticated instead)', async () => {
    await expect(createTestNode(webhookNode, { url: '/h', auth: 'basic' })).rejects.toThrow('webhook: auth "basic" needs a webhook-auth credential with username and password');
    await expect(createTestNode(webhookNode, { url: '/h', auth: 'basic' }, { credentials: { username: 'u' } })).rejects.toThrow(/username and password/);
    await expect(createTestNode(webhookNode, { url: '/h', auth: 'header' }, { credentials: { header: 'X' } })).rejects.toThrow('webhook: auth "header" needs a webhook-auth credential with a token');
    await expect(createTestNode(webhookNode, { url: '/h', auth: 'hmac' }, { credentials: { secret: '' } })).rejects.toThrow('webhook: auth "hmac" needs a webhook-auth credential with a secret');
    await expect(createTestNode(webhookNode, { url: '/h', auth: 'hmac', hmac: { scheme: 'github', timestampHeader: 'X-T' } }, { credentials: { secret: 's' } })).rejects.toThrow(/github scheme signs no timestamp/);
    await expect(createTestNode(webhookNode, { url: '/h', maxBodySize: 'lots' })).rejects.toThrow('webhook: maxBodySize "lots" is not a size like 64kb');
  });

  it('keeps the header that carried a verified secret out of the message, and passes multipart files on msg.req.files', async () => {
    const node = await createTestNode(webhookNode, { url: '/h', auth: 'header' }, { credentials: { header: 'X-Key', token: 't' } });
    await node.start();
    const files = [{ field: 'f', filename: 'a.txt', mimeType: 'text/plain', size: 1, data: 'eA==' }];
    await node.webhooks[0]!.handle(request({ headers: { 'x-key': 't', 'x-other': '1' }, files, rawBody: Buffer.from('x') }));
    const req = node.emitted[0]!.msg.req as Record<string, unknown>;
    expect(req.headers).toEqual({ 'x-other': '1' });
    expect(req.files).toEqual(files);
    expect(req).not.toHaveProperty('rawBody');
  });

  it('describes auth, accept and maxBodySize in its props schema and help', () => {
    const props = (webhookNode.props as { properties: Record<string, unknown> }).properties;
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['auth', 'hmac', 'accept', 'maxBodySize']));
    expect(webhookNode.credentials?.type).toBe('webhook-auth');
    expect(webhookNode.help).toMatch(/X-Flowcrew-Signature/);
    expect(webhookNode.help).toMatch(/415/);
  });
});
