/**
 * The Salesforce node and credential with the real jsforce client, against a local stand-in of the Salesforce REST
 * API (testing/stand-in.ts: Salesforce cannot run here), every request through the outbound guard.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importSPKI } from 'jose';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { isBlobRef, readRows, type BlobRef, type RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testBlobStore, testResources } from '@flowcrew/sdk/testing';
import { bindSoql } from './soql.ts';
import type { SalesforceFields } from './connect.ts';
import { salesforceCredential } from './credential.ts';
import { salesforceNode, type SalesforceProps } from './node.ts';
import { SalesforceStandIn } from './testing/stand-in.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const keys = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const app = { clientId: '3MVG9-test-app', clientSecret: 'app-secret-1', username: 'integration@example.com', password: 'pw-1', refreshToken: '5Aep-refresh-1' };
let sf: SalesforceStandIn;

beforeAll(async () => {
  sf = await new SalesforceStandIn({ ...app, password: 'pw-1TOKEN', jwtPublicKey: await importSPKI(keys.publicKey, 'RS256'), queryPageSize: 500 }).start();
  for (let i = 1; i <= 1234; i++) sf.addAccount({ Name: `Account ${i}`, Industry: i % 2 ? 'Banking' : 'Retail', Ext_Id__c: `EXT-${i}` });
});
afterAll(async () => {
  await closeTestServices();
  await sf?.close();
  await outbound.close();
});

const flows = {
  password: (): SalesforceFields => ({ flow: 'password', loginUrl: sf.url, clientId: app.clientId, clientSecret: app.clientSecret, username: app.username, password: 'pw-1', securityToken: 'TOKEN' }),
  refresh: (): SalesforceFields => ({ flow: 'refresh-token', loginUrl: sf.url, clientId: app.clientId, refreshToken: app.refreshToken }),
  jwt: (): SalesforceFields => ({ flow: 'jwt', loginUrl: sf.url, clientId: app.clientId, username: app.username, privateKey: keys.privateKey }),
};
const services = () => ({ outbound }) as unknown as RuntimeServices;
const signal = () => new AbortController().signal;
let seq = 0;
const node = (props: Partial<SalesforceProps>, fields = flows.jwt(), id = `sf-${++seq}`) => createTestNode(salesforceNode, props, { credentials: fields, credential: { id } });

describe('salesforce credential against a local stand-in of the Salesforce OAuth 2.0 endpoints', () => {
  it.each(Object.keys(flows) as Array<keyof typeof flows>)('Test connection signs in with the %s flow and names the user and org', async (flow) => {
    const result = await salesforceCredential.test!(flows[flow](), services(), signal());
    expect(result).toEqual({ ok: true, message: `connected to Salesforce at ${new URL(sf.url).host} as integration@example.com (org 00D000000000001AAA, API 62.0, ${flows[flow]().flow} flow)` });
  });

  it('says what Salesforce answered for wrong secrets, without the secrets', async () => {
    const bad = await salesforceCredential.test!({ ...flows.password(), password: 'nope-123' }, services(), signal());
    expect(bad).toEqual({ ok: false, message: `Salesforce ${new URL(sf.url).host}: login (password flow) failed: invalid_grant: authentication failure` });
    const badRefresh = await salesforceCredential.test!({ ...flows.refresh(), refreshToken: 'revoked-456' }, services(), signal());
    expect(badRefresh.message).toBe(`Salesforce ${new URL(sf.url).host}: login (refresh-token flow) failed: invalid_grant: expired access/refresh token`);
    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    const badJwt = await salesforceCredential.test!({ ...flows.jwt(), privateKey: other.privateKey }, services(), signal());
    expect(badJwt.message).toMatch(/login \(jwt flow\) failed: invalid_grant: invalid assertion: signature verification failed/);
    expect(JSON.stringify([bad, badRefresh, badJwt])).not.toMatch(/nope-123|revoked-456|PRIVATE KEY/);
  });

  it('is refused by the outbound guard for a host the administrator did not allow', async () => {
    const strict = createOutboundGuard();
    try {
      const result = await salesforceCredential.test!(flows.jwt(), { outbound: strict } as unknown as RuntimeServices, signal());
      expect(result.ok).toBe(false);
      expect(result.message).toMatch(/^Salesforce 127\.0\.0\.1:\d+: login \(jwt flow\) failed: .*127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });
});

describe('salesforce node against a local stand-in of the Salesforce REST API', () => {
  it('runs SOQL with message values as escaped literals and follows nextRecordsUrl to the last page', async () => {
    const n = await node({ soql: 'SELECT Id, Name, Industry FROM Account WHERE Industry = :industry', params: { industry: 'payload.industry' } });
    const before = sf.requests.filter((r) => r.path.includes('/query')).length;
    const [out] = await n.input({ payload: { industry: 'Banking' } });
    const records = out!.msg.payload as Array<Record<string, unknown>>;
    expect(records).toHaveLength(617);
    expect(records[0]).toEqual({ Id: expect.stringMatching(/^001/), Name: 'Account 1', Industry: 'Banking' });
    expect(sf.requests.filter((r) => r.path.includes('/query')).length - before).toBe(2); // 617 records in pages of 500
    // An injection attempt stays inside the literal: no record has that name.
    const [none] = await n.input({ payload: { industry: "x' OR Name != '" } });
    expect(none!.msg.payload).toEqual([]);
  });

  it('sends a large result as page messages of JSON Lines blobs', async () => {
    const n = await node({ soql: 'SELECT Id, Name FROM Account', output: 'pages', pageSize: 400 });
    const pages = await n.input({ topic: 'all' });
    expect(pages.map((p) => (p.msg.page as { rows: number }).rows)).toEqual([400, 400, 400, 34]);
    expect(pages.every((p) => isBlobRef(p.msg.payload) && p.msg.topic === 'all')).toBe(true);
    const rows: Array<{ Name: string }> = [];
    for await (const page of readRows<{ Name: string }>(await testBlobStore(), pages[3]!.msg.payload as BlobRef)) rows.push(...page);
    expect(rows.at(-1)!.Name).toBe('Account 1234');
  });

  it('names the host, the operation and Salesforce\'s error code and message for a bad query, without retrying it', async () => {
    const n = await node({ soql: 'SELEKT Id FROM Account' });
    const error = await n.input({}).catch((e: Error & { retryable?: boolean }) => e);
    expect((error as Error).message).toMatch(new RegExp(`^Salesforce ${new URL(sf.url).host}: query failed: MALFORMED_QUERY: [\\s\\S]*unexpected token: 'SELEKT'`));
    expect((error as { retryable?: boolean }).retryable).toBe(false);
    await expect((await node({ soql: 'SELECT Id FROM Account WHERE Name = :name' })).input({})).rejects.toThrow(/query: SOQL parameter :name has no value/);
  });

  it('creates, reads, updates, upserts by external id and deletes a record', async () => {
    const created = (await (await node({ operation: 'create', object: 'Account' })).input({ payload: { Name: 'Flowcrew Ltd', Industry: 'Software' } }))[0]!.msg.payload as { id: string; success: boolean };
    expect(created).toMatchObject({ id: expect.stringMatching(/^001/), success: true });
    const get = await node({ operation: 'get', object: 'Account', idFrom: 'payload.id' });
    expect((await get.input({ payload: { id: created.id } }))[0]!.msg.payload).toEqual({ Id: created.id, Name: 'Flowcrew Ltd', Industry: 'Software' });
    await (await node({ operation: 'update', object: 'Account' })).input({ payload: { Id: created.id, Industry: 'Automation' } });
    expect(sf.accounts.get(created.id)!.Industry).toBe('Automation');

    const upsert = await node({ operation: 'upsert', object: 'Account', externalIdField: 'Ext_Id__c' });
    expect((await upsert.input({ payload: { Ext_Id__c: 'EXT-7', Name: 'Seven' } }))[0]!.msg.payload).toMatchObject({ success: true, created: false });
    expect((await upsert.input({ payload: { Ext_Id__c: 'EXT-NEW', Name: 'New one' } }))[0]!.msg.payload).toMatchObject({ success: true, created: true });
    await expect(upsert.input({ payload: { Ext_Id__c: 'EXT-NONAME' } })).rejects.toThrow(/upsert Account failed: REQUIRED_FIELD_MISSING: Required fields are missing: \[Name\] \(fields Name\)/);

    await (await node({ operation: 'delete', object: 'Account', idFrom: 'payload' })).input({ payload: created.id });
    expect(sf.accounts.has(created.id)).toBe(false);
    await expect(get.input({ payload: { id: created.id } })).rejects.toThrow(/get Account failed: NOT_FOUND/);
    await expect(get.input({ payload: { id: 'x; DROP' } })).rejects.toThrow('get Account: msg.payload.id must be a Salesforce record id (15 or 18 characters), got "x; DROP"');
  });

  it('signs in again when the session expires (refresh token flow) and waits out a 429 with Retry-After', async () => {
    const n = await node({ soql: "SELECT Id FROM Account WHERE Name = 'Account 3'" }, flows.refresh());
    expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
    sf.expireSessions();
    const tokenCalls = () => sf.requests.filter((r) => r.path === '/services/oauth2/token').length;
    const before = tokenCalls();
    expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
    expect(tokenCalls()).toBe(before + 1);

    sf.rateLimitNext = 1;
    expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
    sf.rateLimitNext = 10;
    await expect(n.input({})).rejects.toThrow(/query failed: REQUEST_LIMIT_EXCEEDED: Too many requests/);
    sf.rateLimitNext = 0;
  }, 20_000);

  it('stores a refresh token Salesforce rotated (write-back to the credential, same revision) and refreshes with it', async () => {
    sf.rotateRefreshTokens = true;
    try {
      const n = await node({ soql: "SELECT Id FROM Account WHERE Name = 'Account 5'" }, flows.refresh(), 'rotating-sf');
      expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
      const credential = n.credential!;
      const first = credential.fields.refreshToken;
      expect(first).toBe(sf.refreshToken);
      expect(first).not.toBe(app.refreshToken); // the original one no longer works at Salesforce
      const revision = credential.revision;
      sf.expireSessions(); // the next call refreshes with the rotated token, which rotates again
      expect((await n.input({}))[0]!.msg.payload).toHaveLength(1);
      expect(credential.fields.refreshToken).toBe(sf.refreshToken);
      expect(credential.fields.refreshToken).not.toBe(first);
      expect(credential.revision).toBe(revision); // nothing re-opened for a write-back
      await n.stop();
    } finally {
      sf.rotateRefreshTokens = false;
      sf.refreshToken = '';
    }
  });

  it('shares one session per credential and opens a new one after the credential changes', async () => {
    const a = await node({ soql: "SELECT Id FROM Account WHERE Name = 'Account 1'" }, flows.jwt(), 'shared-sf');
    const b = await node({ soql: "SELECT Id FROM Account WHERE Name = 'Account 2'" }, flows.jwt(), 'shared-sf');
    const logins = () => sf.requests.filter((r) => r.path === '/services/oauth2/token').length;
    const before = logins();
    await Promise.all([a.input({}), b.input({}), a.input({})]);
    expect(logins()).toBe(before + 1);
    expect(testResources().list().filter((r) => r.credential?.id === 'shared-sf')).toEqual([{ key: 'crm:salesforce:connection', credential: { id: 'shared-sf', revision: 1 }, holders: 2, state: 'open' }]);
    a.changeCredential({ ...flows.password() });
    await a.input({});
    expect(logins()).toBe(before + 2);
    await a.stop();
    await b.stop();
  });
});

describe('salesforce node: Bulk API 2.0 against a local stand-in of the Salesforce Bulk API 2.0', () => {
  it('upserts rows from a JSON Lines blob in jobs of jobSize, reporting the rows Salesforce refused', async () => {
    const blobs = await testBlobStore();
    const rows = Array.from({ length: 2500 }, (_, i) => (i === 1234 ? { Ext_Id__c: `BULK-${i}` } : { Ext_Id__c: i < 10 ? `EXT-${i + 1}` : `BULK-${i}`, Name: `Bulk ${i}`, Industry: null }));
    const ref = await blobs.put(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const n = await node({ operation: 'bulk-ingest', object: 'Account', bulkOperation: 'upsert', externalIdField: 'Ext_Id__c', jobSize: 1000 });
    const [out] = await n.input({ payload: ref });
    const summary = out!.msg.payload as { jobs: string[]; processed: number; succeeded: number; failed: number; failures: Array<Record<string, unknown>> };
    expect(summary).toMatchObject({ processed: 2500, succeeded: 2499, failed: 1, unprocessed: 0 });
    expect(summary.jobs).toHaveLength(3);
    expect(summary.failures).toEqual([expect.objectContaining({ sf__Error: 'REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --', Ext_Id__c: 'BULK-1234' })]);
    expect([...sf.accounts.values()].find((r) => r.Ext_Id__c === 'EXT-1')!.Name).toBe('Bulk 0');
  }, 20_000);

  it('runs a bulk query job and sends its results a page at a time (Sforce-Locator)', async () => {
    const n = await node({ operation: 'bulk-query', soql: "SELECT Id, Name FROM Account WHERE Industry = 'Retail'", output: 'pages', pageSize: 200 });
    const pages = await n.input({});
    // 617 Retail accounts, less those an earlier test's bulk upsert left without an industry when it ran.
    const retail = [...sf.accounts.values()].filter((r) => r.Industry === 'Retail').length;
    expect(retail).toBeGreaterThan(600);
    expect(pages.map((p) => (p.msg.page as { rows: number }).rows)).toEqual([200, 200, 200, retail - 600]);
    const first: Array<{ Name: string }> = [];
    for await (const page of readRows<{ Name: string }>(await testBlobStore(), pages[0]!.msg.payload as BlobRef)) first.push(...page);
    expect(first).toHaveLength(200);
    expect(first[0]!.Name).toMatch(/^Account \d+$/);
  }, 20_000);
});

describe('SOQL literals', () => {
  it('escapes quotes, backslashes and control characters, and writes lists for IN', () => {
    expect(bindSoql("SELECT Id FROM A WHERE Name = :n AND Id IN :ids AND x = ':n'", { n: "O'Brien \\ \n", ids: ['a', 'b'] })).toBe("SELECT Id FROM A WHERE Name = 'O\\'Brien \\\\ \\n' AND Id IN ('a', 'b') AND x = ':n'");
    expect(() => bindSoql('WHERE x = :v', { v: { a: 1 } })).toThrow('SOQL parameter :v is object');
  });
});
