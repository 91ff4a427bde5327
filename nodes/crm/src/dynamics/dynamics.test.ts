/** The Dynamics 365 node and credential against a local stand-in of the Dynamics 365 Web API and its token endpoint. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { isBlobRef, type RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import type { DynamicsFields } from './client.ts';
import { dynamicsCredential } from './credential.ts';
import { dynamicsNode, type DynamicsProps } from './node.ts';
import { DynamicsStandIn } from './testing/stand-in.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const app = { tenantId: 'contoso-tenant', clientId: 'app-1', clientSecret: 'secret-1' };
let d: DynamicsStandIn;
let fields: DynamicsFields;

beforeAll(async () => {
  d = await new DynamicsStandIn(app).start();
  fields = { url: d.url, authorityHost: d.url, ...app };
  for (let i = 1; i <= 2500; i++) d.add({ name: i === 7 ? "O'Brien & Co" : `Account ${i}`, revenue: i * 10, city: i % 2 ? 'Oslo' : 'Bergen' });
});
afterAll(async () => {
  await closeTestServices();
  await d?.close();
  await outbound.close();
});

let seq = 0;
const node = (props: Partial<DynamicsProps>, f = fields) => createTestNode(dynamicsNode, { entitySet: 'accounts', ...props }, { credentials: f, credential: { id: `d-${++seq}` } });
const host = () => new URL(d.url).host;

describe('dynamics365 credential against a local stand-in of the Microsoft identity platform and Web API', () => {
  it('Test connection gets a client credentials token and asks WhoAmI; a wrong secret says what the identity platform said', async () => {
    const services = { outbound } as unknown as RuntimeServices;
    expect(await dynamicsCredential.test!(fields, services, new AbortController().signal)).toEqual({ ok: true, message: `connected to Dynamics 365 at ${host()} as application user 7d2e1b3a-0000-4000-8000-000000000001 (organization 0a1b2c3d-0000-4000-8000-000000000002)` });
    const last = d.tokenRequests.at(-1)!;
    expect(Object.fromEntries(last)).toEqual({ grant_type: 'client_credentials', client_id: 'app-1', client_secret: 'secret-1', scope: `${d.url}/.default` });
    const bad = await dynamicsCredential.test!({ ...fields, clientSecret: 'wrong-999' }, services, new AbortController().signal);
    expect(bad).toEqual({ ok: false, message: `Dynamics 365 ${host()}: token request (client credentials) failed: invalid_client: AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.` });
  });
});

describe('dynamics365 node against a local stand-in of the Dynamics 365 Web API', () => {
  it('queries with $select and a $filter literal from the message, following @odata.nextLink', async () => {
    const [one] = await (await node({ select: ['name', 'city'], filter: 'name eq :name', params: { name: 'payload.name' } })).input({ payload: { name: "O'Brien & Co" } });
    expect(one!.msg.payload).toEqual([{ name: "O'Brien & Co", city: 'Oslo', accountid: expect.stringMatching(/^[0-9a-f-]{36}$/) }]);
    const [all] = await (await node({ select: ['name'], pageSize: 1000 })).input({});
    expect(all!.msg.payload).toHaveLength(2500);
    const pages = await (await node({ select: ['name'], pageSize: 1000, output: 'pages' })).input({});
    expect(pages.map((p) => (p.msg.page as { rows: number }).rows)).toEqual([1000, 1000, 500]);
    expect(isBlobRef(pages[0]!.msg.payload)).toBe(true);
  });

  it('creates, reads, updates and deletes an account; update never creates a missing one', async () => {
    const [created] = await (await node({ operation: 'create' })).input({ payload: { name: 'Flowcrew', revenue: 5 } });
    const id = (created!.msg.payload as { accountid: string }).accountid;
    const get = await node({ operation: 'get', select: ['name'], idFrom: 'payload' });
    expect((await get.input({ payload: id }))[0]!.msg.payload).toMatchObject({ name: 'Flowcrew' });
    await (await node({ operation: 'update', idFrom: 'payload.id', recordFrom: 'payload.set' })).input({ payload: { id, set: { revenue: 6 } } });
    expect(d.accounts.get(id)!.revenue).toBe(6);
    await (await node({ operation: 'delete', idFrom: 'payload' })).input({ payload: id });
    await expect(get.input({ payload: id })).rejects.toThrow(`Dynamics 365 ${host()}: get accounts failed: 404 0x80040217: account With Id = ${id} Does Not Exist`);
    await expect((await node({ operation: 'update', idFrom: 'payload.id', recordFrom: 'payload.set' })).input({ payload: { id, set: { revenue: 1 } } })).rejects.toThrow(/update accounts failed: 404 0x80040217/);
    await expect((await node({ operation: 'create' })).input({ payload: { revenue: 1 } })).rejects.toThrow(/create accounts failed: 400 0x80040203: Required field name is missing\./);
    await expect(get.input({ payload: "x') or (1" })).rejects.toThrow(`get accounts: msg.payload must be a record GUID, got "x') or (1"`);
  });

  it('gets a new token after a 401, and waits out a 429 with Retry-After', async () => {
    const n = await node({ select: ['name'], filter: "name eq 'Account 3'" });
    expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
    const tokens = d.tokenRequests.length;
    d.expireTokens();
    expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
    expect(d.tokenRequests.length).toBe(tokens + 1);
    d.rateLimitNext = 1;
    expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
    d.rateLimitNext = 10;
    await expect(n.input({})).rejects.toThrow(/query accounts failed: 429 0x80072322: Number of requests exceeded/);
    d.rateLimitNext = 0;
  }, 20_000);

  it('reports an OData syntax error as the Web API words it', async () => {
    await expect((await node({ filter: 'name eqq 1' })).input({})).rejects.toThrow(`Dynamics 365 ${host()}: query accounts failed: 400 0x80060888: Syntax error at position 10 in 'name eqq 1'.`);
  });
});
