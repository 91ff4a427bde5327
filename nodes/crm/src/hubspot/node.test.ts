/** The HubSpot node and credential with the real @hubspot/api-client, against a local stand-in of the HubSpot CRM API. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testResources } from '@flowcrew/sdk/testing';
import { hubspotCredential, type HubSpotFields } from './credential.ts';
import { hubspotNode, type HubSpotProps } from './node.ts';
import { HubSpotStandIn } from './testing/stand-in.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const token = 'pat-na1-test-token';
let hs: HubSpotStandIn;
let fields: HubSpotFields;

beforeAll(async () => {
  hs = await new HubSpotStandIn(token).start();
  fields = { accessToken: token, baseUrl: hs.url };
  for (let i = 1; i <= 450; i++) hs.add('contacts', { email: `c${i}@example.com`, firstname: `C${i}`, lifecyclestage: i % 3 ? 'lead' : 'customer' });
  hs.add('companies', { name: 'Flowcrew' });
});
afterAll(async () => {
  await closeTestServices();
  await hs?.close();
  await outbound.close();
});

let seq = 0;
const node = (props: Partial<HubSpotProps>, id = `hs-${++seq}`) => createTestNode(hubspotNode, props, { credentials: fields, credential: { id } });
const host = () => new URL(hs.url).host;

describe('hubspot credential against a local stand-in of the HubSpot API', () => {
  it('Test connection names the account, and says what HubSpot answered for a wrong token', async () => {
    const services = { outbound } as unknown as RuntimeServices;
    expect(await hubspotCredential.test!(fields, services, new AbortController().signal)).toEqual({ ok: true, message: `connected to HubSpot account 62515 at ${host()}` });
    const bad = await hubspotCredential.test!({ ...fields, accessToken: 'pat-wrong' }, services, new AbortController().signal);
    expect(bad).toEqual({ ok: false, message: `HubSpot ${host()}: account details answered 401 INVALID_AUTHENTICATION: Authentication credentials not found. This API supports OAuth 2.0 authentication.` });
  });
});

describe('hubspot node against a local stand-in of the HubSpot CRM API', () => {
  it('creates, reads, updates, associates and archives a contact', async () => {
    const [created] = await (await node({ operation: 'create', objectType: 'contacts' })).input({ payload: { properties: { email: 'new@example.com', firstname: 'Ada', age: 36 } } });
    const id = (created!.msg.payload as { id: string }).id;
    expect(created!.msg.payload).toMatchObject({ id: expect.stringMatching(/^\d+$/), properties: { email: 'new@example.com', firstname: 'Ada', age: '36' } });
    const [got] = await (await node({ operation: 'get', objectType: 'contacts', properties: ['email'] })).input({ payload: { id } });
    expect((got!.msg.payload as { properties: unknown }).properties).toEqual({ email: 'new@example.com' });
    await (await node({ operation: 'update', objectType: 'contacts' })).input({ payload: { id, properties: { firstname: 'Ada L.' } } });
    expect(hs.objects.get('contacts')!.get(id)!.properties.firstname).toBe('Ada L.');
    const company = [...hs.objects.get('companies')!.values()][0]!.id;
    const [linked] = await (await node({ operation: 'associate', objectType: 'contacts', toObjectType: 'companies' })).input({ payload: { id, toId: company } });
    expect(linked!.msg.payload).toMatchObject({ status: 'COMPLETE' });
    expect(hs.associations).toContainEqual({ from: 'contacts', fromId: id, to: 'companies', toId: company });
    await (await node({ operation: 'archive', objectType: 'contacts' })).input({ payload: { id } });
    expect(hs.objects.get('contacts')!.has(id)).toBe(false);
  });

  it('searches with filters from the message and follows paging.next.after up to maxRecords', async () => {
    const n = await node({ operation: 'search', objectType: 'contacts', properties: ['email'], filterGroups: [{ filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', valueFrom: 'payload.stage' }] }], maxRecords: 1000 });
    const [out] = await n.input({ payload: { stage: 'lead' } });
    expect(out!.msg.payload).toHaveLength(300);
    expect(out!.msg.total).toBe(300);
    const [some] = await (await node({ operation: 'search', objectType: 'contacts', maxRecords: 250 })).input({});
    expect(some!.msg.payload).toHaveLength(250);
  });

  it('names host, operation and HubSpot\'s status, category, message and correlation id; refuses bad ids before calling', async () => {
    const get = await node({ operation: 'get', objectType: 'contacts' });
    const error = (await get.input({ payload: { id: '999999' } }).catch((e: Error) => e)) as Error & { retryable: boolean };
    expect(error.message).toMatch(new RegExp(`^HubSpot ${host()}: get contacts failed: 404 OBJECT_NOT_FOUND: resource not found \\(correlation id [0-9a-f-]{36}\\)$`));
    expect(error.retryable).toBe(false);
    const conflict = await (await node({ operation: 'create', objectType: 'contacts' })).input({ payload: { properties: { email: 'c1@example.com' } } }).catch((e: Error) => e);
    expect((conflict as Error).message).toMatch(/create contacts failed: 409 CONFLICT: Contact already exists\. Existing ID: \d+/);
    await expect(get.input({ payload: { id: '../1' } })).rejects.toThrow(`HubSpot ${host()}: get contacts: msg.payload.id must be a HubSpot record id (digits), got "../1"`);
  });

  it('waits out a 429 with Retry-After, and fails with HubSpot\'s answer when it persists', async () => {
    const n = await node({ operation: 'search', objectType: 'companies' });
    hs.rateLimitNext = 1;
    expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
    hs.rateLimitNext = 10;
    await expect(n.input({})).rejects.toThrow(/search companies failed: 429: You have reached your ten_secondly_rolling limit\./);
    hs.rateLimitNext = 0;
  }, 20_000);

  it('keeps one client per credential and closes its sockets when the last node is undeployed', async () => {
    const before = await hs.connections(); // other tests' nodes keep idle keep-alive sockets of their own
    const a = await node({ operation: 'search', objectType: 'companies' }, 'hs-shared');
    const b = await node({ operation: 'search', objectType: 'companies' }, 'hs-shared');
    for (let i = 0; i < 20; i++) await Promise.all([a.input({}), b.input({})]);
    expect(testResources().list().filter((r) => r.credential?.id === 'hs-shared')).toHaveLength(1);
    expect(await hs.connections()).toBeLessThanOrEqual(before + 8); // the agent's maxSockets
    await a.stop();
    await b.stop();
    await new Promise((r) => setTimeout(r, 100));
    expect(testResources().list().filter((r) => r.credential?.id === 'hs-shared')).toHaveLength(0);
    expect(await hs.connections()).toBeLessThanOrEqual(before);
  });
});
