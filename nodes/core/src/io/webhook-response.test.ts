import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import type { TriggerReply } from '@flowcrew/sdk';
import { webhookResponseNode } from './webhook-response.ts';
import { webhookNode } from './webhook.ts';
import { headersHash, RESPONSE_HEADERS_MARK } from './http-util.ts';

describe('webhook-response node', () => {
  it('replies with the payload, status 200 by default', async () => {
    const node = await createTestNode(webhookResponseNode, {});
    expect(await node.input({ payload: { ok: true }, _webhook: true })).toEqual([]);
    expect(node.replies).toEqual([{ status: 200, headers: {}, body: { ok: true } }]);
  });

  it('uses msg.statusCode and msg.headers when the node sets none', async () => {
    const node = await createTestNode(webhookResponseNode, {});
    await node.input({ payload: 'created', statusCode: 201, headers: { Location: '/x/1' }, _webhook: true });
    expect(node.replies).toEqual([{ status: 201, headers: { Location: '/x/1' }, body: 'created' }]);
  });

  it('lets the node settings win over the message, as Node-RED does', async () => {
    const node = await createTestNode(webhookResponseNode, { statusCode: '418', headers: { 'content-type': 'text/plain' } });
    await node.input({ payload: 'tea', statusCode: 200, headers: { 'content-type': 'application/json', 'x-extra': 'yes' }, _webhook: true });
    expect(node.replies).toEqual([{ status: 418, headers: { 'content-type': 'text/plain', 'x-extra': 'yes' }, body: 'tea' }]);
  });

  it('ignores headers copied unchanged from an http-request response', async () => {
    const responseHeaders = { 'content-length': '999', 'transfer-encoding': 'chunked' };
    const node = await createTestNode(webhookResponseNode, {});
    await node.input({ payload: 'x', headers: { ...responseHeaders, [RESPONSE_HEADERS_MARK]: headersHash(responseHeaders) }, _webhook: true });
    expect(node.replies[0]!.headers).toEqual({});
    // Once the user changes them they are the user's headers.
    await node.input({ payload: 'x', headers: { ...responseHeaders, 'x-mine': '1', [RESPONSE_HEADERS_MARK]: headersHash(responseHeaders) }, _webhook: true });
    expect(node.replies[1]!.headers).toEqual({ ...responseHeaders, 'x-mine': '1' });
  });

  it('sends numbers as text', async () => {
    const node = await createTestNode(webhookResponseNode, {});
    await node.input({ payload: 42, _webhook: true });
    expect(node.replies[0]!.body).toBe('42');
  });

  it('warns and does nothing for a message that did not come from a webhook', async () => {
    const node = await createTestNode(webhookResponseNode, {});
    await node.input({ payload: 'x' });
    expect(node.replies).toEqual([]);
    expect(node.logs.some((l) => l.level === 'warn' && /no webhook request/.test(l.message))).toBe(true);
  });

  it('answers the caller of a webhook end to end', async () => {
    const responder = await createTestNode(webhookResponseNode, { headers: { 'x-served-by': 'flowcrew' } });
    const hook = await createTestNode(
      webhookNode,
      { url: '/echo' },
      {
        flowNodes: [{ id: 'r', type: 'webhook-response', name: '', props: {} }],
        // A stand-in for the executor: the webhook's message goes straight to the response node.
        onEmit: async (msg) => {
          await responder.input({ ...msg, payload: { echoed: msg.payload } });
          return { runId: 'run', reply: Promise.resolve(responder.replies[0] as TriggerReply) };
        },
      },
    );
    await hook.start();
    const reply = await hook.webhooks[0]!.handle({ method: 'POST', path: '/echo', params: {}, query: {}, headers: {}, body: 'hi' });
    expect(reply).toEqual({ status: 200, headers: { 'x-served-by': 'flowcrew' }, body: { echoed: 'hi' } });
  });
});
