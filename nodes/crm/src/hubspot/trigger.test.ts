/** The HubSpot trigger: signature v3 (HMAC SHA-256 of method + URI + body + timestamp, 5 minutes, constant time). */
import { createHmac } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { WebhookRequest } from '@flowcrew/sdk';
import { closeTestServices, createTestNode } from '@flowcrew/sdk/testing';
import { signatureV3, verifyV3 } from './signature.ts';
import { hubspotTriggerNode } from './trigger.ts';

afterAll(closeTestServices);

const secret = 'hubspot-client-secret-1';
const events = [
  { eventId: 101, subscriptionId: 7, portalId: 62515, occurredAt: 1764756000000, subscriptionType: 'contact.propertyChange', attemptNumber: 0, objectId: 123, propertyName: 'email', propertyValue: 'a@example.com' },
  { eventId: 102, subscriptionId: 8, portalId: 62515, occurredAt: 1764756000001, subscriptionType: 'deal.creation', attemptNumber: 0, objectId: 456 },
];

/** A request as HubSpot sends it to https://flows.example.com/webhook/hubspot, signed with `key` at `timestamp`. */
function request(options: { key?: string; timestamp?: number; body?: string; tamper?: boolean } = {}): WebhookRequest {
  const body = options.body ?? JSON.stringify(events);
  const timestamp = String(options.timestamp ?? Date.now());
  // Written out here from HubSpot's description rather than with signatureV3, so the test checks the format too.
  const signature = createHmac('sha256', options.key ?? secret).update(`POSThttps://flows.example.com/webhook/hubspot${body}${timestamp}`).digest('base64');
  return {
    method: 'POST',
    path: '/hubspot',
    params: {},
    query: {},
    headers: { host: 'runtime:8080', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'flows.example.com', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': timestamp, 'content-type': 'application/json' },
    body: JSON.parse(options.tamper ? body.replace('123', '124') : body),
    rawBody: Buffer.from(options.tamper ? body.replace('123', '124') : body),
  };
}

async function started(props: Record<string, unknown> = {}) {
  const node = await createTestNode(hubspotTriggerNode, props, { credentials: { clientSecret: secret } });
  await node.start();
  return node;
}

describe('HubSpot trigger', () => {
  it('starts one run per event for a correctly signed request, with the eventId as message id', async () => {
    const node = await started();
    expect(node.webhooks[0]).toMatchObject({ method: 'POST', path: '/hubspot', accept: ['application/json'] });
    expect(await node.webhooks[0]!.handle(request())).toEqual({ status: 200, body: { received: 2 } });
    expect(node.emitted.map((e) => e.msg)).toEqual([
      { payload: events[0], topic: 'contact.propertyChange', _msgid: 'hubspot-101' },
      { payload: events[1], topic: 'deal.creation', _msgid: 'hubspot-102' },
    ]);
    await node.stop();
    expect(node.webhooks).toHaveLength(0);
  });

  it('starts one run with every event when split is off, and takes the signed URL from publicUrl', async () => {
    const node = await started({ split: false, publicUrl: 'https://flows.example.com/webhook/hubspot' });
    const req = request();
    req.headers = { ...req.headers, 'x-forwarded-host': 'internal-proxy' };
    expect((await node.webhooks[0]!.handle(req)).status).toBe(200);
    expect(node.emitted.map((e) => e.msg)).toEqual([{ payload: events, topic: 'hubspot' }]);
  });

  it('refuses with 401 and starts nothing: wrong secret, changed body, older than 5 minutes, no signature', async () => {
    const node = await started();
    const handle = node.webhooks[0]!.handle;
    expect(await handle(request({ key: 'other-secret' }))).toEqual({ status: 401, body: { error: 'invalid signature' } });
    expect((await handle(request({ tamper: true }))).status).toBe(401);
    expect((await handle(request({ timestamp: Date.now() - 5 * 60 * 1000 - 1000 }))).status).toBe(401);
    const unsigned = request();
    delete unsigned.headers['x-hubspot-signature-v3'];
    expect((await handle(unsigned)).status).toBe(401);
    expect(node.emitted).toHaveLength(0);
    expect(node.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      'HubSpot webhook refused: the signature does not match',
      'HubSpot webhook refused: the signature does not match',
      expect.stringMatching(/^HubSpot webhook refused: the timestamp is 30\d s from now \(more than 5 minutes\)$/),
      'HubSpot webhook refused: no X-HubSpot-Signature-v3 / X-HubSpot-Request-Timestamp header',
    ]);
  });

  it('answers 500 (HubSpot retries) when a run could not be stored', async () => {
    const node = await createTestNode(hubspotTriggerNode, {}, { credentials: { clientSecret: secret }, onEmit: async () => Promise.reject(new Error('disk full')) });
    await node.start();
    expect(await node.webhooks[0]!.handle(request())).toEqual({ status: 500, body: { error: 'the run could not be stored: disk full' } });
  });
});

describe('signature v3', () => {
  it('decodes the characters HubSpot decodes in the URI before signing', () => {
    const t = '1764756000000';
    expect(signatureV3(secret, 'post', 'https://h.example/webhook/x?a=b%3Ac%2Fd%20e', '', t)).toBe(createHmac('sha256', secret).update(`POSThttps://h.example/webhook/x?a=b:c/d%20e${t}`).digest('base64'));
  });

  it('refuses a signature of another length without throwing', () => {
    expect(verifyV3(secret, { method: 'POST', uri: 'u', body: '', signature: 'short', timestamp: String(Date.now()) })).toEqual({ ok: false, reason: 'the signature does not match' });
  });
});
