/**
 * The S3 node and credential type against a real S3-compatible server (Versity S3 Gateway, posix backend, started
 * by `scripts/services s3` on 127.0.0.1:7070): get/put (multipart), paged lists, copy/move/delete, conditional
 * puts, presigned URLs used with plain HTTP, errors, and no connection left after 1,000 runs and a redeploy.
 */
import { randomBytes } from 'node:crypto';
import { CreateBucketCommand, DeleteBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { BlobRef, FlowMessage, RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testBlobStore, type TestNode } from '@flowcrew/sdk/testing';
import { openS3, type S3Connection, type S3Fields } from './connect.ts';
import { s3Credential } from './credential.ts';
import { s3Node, type S3Props } from './node.ts';
import { S3FileStore } from './store.ts';
import { s3Connections, s3TestFields } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const bucket = `flowcrew-test-${randomBytes(4).toString('hex')}`;
let fields: S3Fields;
let admin: S3Connection;

beforeAll(async () => {
  fields = s3TestFields({ bucket });
  admin = await openS3(fields, outbound);
  try {
    await admin.client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (error) {
    throw new Error(`S3 test server not reachable (${(error as Error).message}): run scripts/services s3`);
  }
});
afterAll(async () => {
  for (const n of deployed) await n.stop();
  await closeTestServices();
  const store = new S3FileStore(admin.client, bucket, 'cleanup');
  for await (const e of store.list('', { recursive: true }, new AbortController().signal)) await store.delete(e.path, { recursive: false }, new AbortController().signal);
  await admin.client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  admin.close();
  await outbound.close();
});

const deployed: TestNode[] = [];
const node = async (props: Partial<S3Props>, f: S3Fields = fields, id = 'ops') => {
  const n = await createTestNode(s3Node, props, { credentials: f, credential: { id } });
  deployed.push(n);
  return n;
};
const one = async (props: Partial<S3Props>, msg: FlowMessage = {}, f?: S3Fields, id?: string) => (await (await node(props, f, id)).input(msg))[0]!.msg;
async function failure(promise: Promise<unknown>): Promise<Error & { retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}
const services = () => ({ outbound }) as unknown as RuntimeServices;
const signal = () => new AbortController().signal;

describe('s3 credential type', () => {
  it('reaches the bucket with good keys, and says what the server answered for bad ones', async () => {
    expect(await s3Credential.test!(fields, services(), signal())).toEqual({ ok: true, message: `S3 bucket ${bucket} at http://127.0.0.1:7070: the bucket is reachable with these keys` });
    expect(await s3Credential.test!({ ...fields, bucket: undefined }, services(), signal())).toMatchObject({ ok: true, message: expect.stringMatching(/signed in, \d+ buckets visible/) });
    const wrong = await s3Credential.test!({ ...fields, secretAccessKey: 'wrong-secret-value' }, services(), signal());
    expect(wrong.ok).toBe(false);
    expect(wrong.message).toMatch(new RegExp(`^S3 bucket ${bucket} at http://127.0.0.1:7070: connection test failed: \\w+`));
    expect(wrong.message).not.toContain('wrong-secret-value');
    const strict = createOutboundGuard();
    try {
      const refused = await s3Credential.test!(fields, { outbound: strict } as unknown as RuntimeServices, signal());
      expect(refused.message).toMatch(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });
});

describe('s3 node', () => {
  it('puts, gets, stats, lists with prefixes, copies, moves and deletes objects', async () => {
    expect((await one({ operation: 'write', path: 'reports/a.txt' }, { payload: 'hello s3' })).payload).toMatchObject({ path: 'reports/a.txt', size: 8, type: 'file' });
    expect((await one({ operation: 'read', path: 'reports/a.txt' })).payload).toBe('hello s3');
    expect((await one({ operation: 'stat', path: 'reports/a.txt' })).payload).toMatchObject({ size: 8 });
    expect((await one({ operation: 'stat', path: 'reports/none.txt' })).payload).toBeNull();
    await one({ operation: 'write', path: 'reports/2026/b.csv' }, { payload: 'b' });
    const top = (await one({ operation: 'list', path: 'reports' })).payload as Array<{ path: string; type: string }>;
    expect(top.map((e) => `${e.type}:${e.path}`).sort()).toEqual(['directory:reports/2026', 'file:reports/a.txt']);
    const all = (await one({ operation: 'list', path: 'reports', recursive: true, pattern: '**/*.csv' })).payload as Array<{ path: string }>;
    expect(all.map((e) => e.path)).toEqual(['reports/2026/b.csv']);
    await one({ operation: 'copy', path: 'reports/a.txt', to: 'copies/a.txt' });
    expect((await one({ operation: 'read', path: 'copies/a.txt' })).payload).toBe('hello s3');
    expect((await failure(one({ operation: 'copy', path: 'reports/a.txt', to: 'copies/a.txt' }))).message).toMatch(/copy to "copies\/a.txt" "reports\/a.txt" failed: it already exists/);
    await one({ operation: 'move', path: 'copies/a.txt', to: 'moved/a.txt' });
    expect((await one({ operation: 'stat', path: 'copies/a.txt' })).payload).toBeNull();
    expect((await one({ operation: 'delete', path: 'reports', recursive: true })).payload).toEqual({ path: 'reports', deleted: true });
    expect((await one({ operation: 'list', path: 'reports', recursive: true })).payload).toEqual([]);
  });

  it('lists a prefix page by page (continuation tokens) and sends pages of entries', async () => {
    for (let i = 0; i < 12; i++) await one({ operation: 'write', path: `paged/k${String(i).padStart(2, '0')}` }, { payload: `${i}` });
    const store = new S3FileStore(admin.client, bucket, 'test', 8 * 1024 * 1024, 5);
    const keys: string[] = [];
    for await (const e of store.list('paged', { recursive: true }, signal())) keys.push(e.path);
    expect(keys).toHaveLength(12);
    const pages = await (await node({ operation: 'list', path: 'paged', recursive: true, listOutput: 'pages', pageSize: 5 })).input({});
    expect(pages.map((s) => (s.msg.page as { rows: number }).rows)).toEqual([5, 5, 2]);
  });

  it('uploads large content from a blob in parts (multipart) and gets it back as a blob', async () => {
    const blobs = await testBlobStore();
    const ref = await blobs.put(randomBytes(12 * 1024 * 1024));
    const put = await one({ operation: 'write', path: 'big/data.bin', partSizeMb: 5 }, { payload: { ...ref, size: undefined } as unknown as BlobRef });
    expect(put.payload).toMatchObject({ size: 12 * 1024 * 1024 });
    const got = await one({ operation: 'read', path: 'big/data.bin', output: 'blob' });
    expect((got.payload as BlobRef).$blob).toBe(ref.$blob);
  });

  it('refuses a conditional put over an existing object, an append, and a missing key, with what S3 said', async () => {
    await one({ operation: 'write', path: 'cond.txt', mode: 'create' }, { payload: 'first' });
    const exists = await failure(one({ operation: 'write', path: 'cond.txt', mode: 'create' }, { payload: 'second' }));
    expect(exists.message).toMatch(new RegExp(`^S3 bucket ${bucket} at http://127.0.0.1:7070: put \\(create\\) "cond.txt" failed: (it already exists|PreconditionFailed)`));
    expect((await one({ operation: 'read', path: 'cond.txt' })).payload).toBe('first');
    expect((await failure(one({ operation: 'write', path: 'cond.txt', mode: 'append' as never }, { payload: 'x' }))).message).toMatch(/S3 objects cannot be appended to/);
    const missing = await failure(one({ operation: 'read', path: 'nope.txt' }));
    expect(missing.message).toMatch(new RegExp(`^S3 bucket ${bucket} at http://127.0.0.1:7070: get "nope.txt" failed: NoSuchKey`));
    expect(missing.retryable).toBe(false);
    expect((await failure(one({ operation: 'read', path: 'x' }, {}, { ...fields, bucket: 'no-such-bucket-flowcrew' }, 'other-bucket'))).message).toMatch(/failed: NoSuchBucket/);
    expect((await failure(one({ operation: 'read', path: '../x' }))).message).toMatch(/refused: the path "..\/x" leads outside/);
  });

  it('presigns GET and PUT URLs that work with plain HTTP and no keys', async () => {
    await one({ operation: 'write', path: 'shared/report.txt' }, { payload: 'for your eyes' });
    const get = (await one({ operation: 'presign', path: 'shared/report.txt', expiresInSeconds: 60 })).payload as string;
    expect(get).toMatch(/X-Amz-Signature=/);
    expect(await (await fetch(get)).text()).toBe('for your eyes');
    const put = (await one({ operation: 'presign', path: 'shared/upload.txt', method: 'PUT' })).payload as string;
    expect((await fetch(put, { method: 'PUT', body: 'uploaded by a browser' })).status).toBe(200);
    expect((await one({ operation: 'read', path: 'shared/upload.txt' })).payload).toBe('uploaded by a browser');
    expect((await failure(one({ operation: 'presign', path: 'x', method: 'PUT' }, {}, { ...fields, readOnly: true }, 'ro'))).message).toMatch(/presign refused: the credential "ro" is read only/);
  });

  it('shares one client per credential and leaves no connection open after 1,000 runs and a redeploy', async () => {
    await one({ operation: 'write', path: 'leak/x.txt' }, { payload: 'x' });
    // Only this test's nodes use the server now: the others are undeployed (their sockets closed).
    for (const n of deployed.splice(0)) await n.stop();
    const before = s3Connections();
    for (let deploy = 0; deploy < 2; deploy++) {
      const a = await createTestNode(s3Node, { operation: 'stat', path: 'leak/x.txt' }, { credentials: fields, credential: { id: 'leak' } });
      const b = await createTestNode(s3Node, { operation: 'read', path: 'leak/x.txt' }, { credentials: fields, credential: { id: 'leak' } });
      // 1,000 runs over both deployments, 20 at a time.
      for (let i = 0; i < 25; i++) await Promise.all(Array.from({ length: 10 }, () => [a.input({}), b.input({})]).flat());
      // Keep-alive: a few sockets (at most one per concurrent request), reused across runs.
      expect(s3Connections() - before).toBeLessThanOrEqual(20);
      await a.stop();
      await b.stop();
      for (let i = 0; i < 50 && s3Connections() > before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(s3Connections()).toBeLessThanOrEqual(before);
    }
  });
});
