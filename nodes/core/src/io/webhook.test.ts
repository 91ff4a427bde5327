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
