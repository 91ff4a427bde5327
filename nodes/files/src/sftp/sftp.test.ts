/**
 * The SFTP node, trigger and credential type against the real OpenSSH server `scripts/services sftp` starts
 * (127.0.0.1:2222): password and key logins, pinned host keys, every operation, streaming through blobs, errors,
 * and no connection left open after 1,000 runs and a redeploy.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { BlobRef, FlowMessage, RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults, testBlobStore, type TestNode } from '@flowcrew/sdk/testing';
import type { FileProps } from '../operations.ts';
import type { PollProps } from '../poll-trigger.ts';
import type { SftpFields } from './connect.ts';
import { sftpCredential } from './credential.ts';
import { sftpNode, sftpWatchNode } from './node.ts';
import { SFTP_DATA, sftpConnections, sftpHostFingerprint, sftpTestFields, sftpTestKey } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const dir = `t-${randomBytes(4).toString('hex')}`;
const root = `${SFTP_DATA}/home/${dir}`;
let fields: SftpFields;

beforeAll(() => {
  fields = sftpTestFields({ root });
});
afterAll(async () => {
  for (const n of deployed) await n.stop();
  await closeTestServices();
  await outbound.close();
  await rm(root, { recursive: true, force: true });
});

let seq = 0;
const node = (props: Partial<FileProps>, f: SftpFields = fields, id = `sftp-${++seq}`) => createTestNode(sftpNode, props, { credentials: f, credential: { id } });
/** Nodes of one deployment sharing the 'ops' credential (one connection), undeployed at the end. */
const deployed: TestNode[] = [];
const one = async (props: Partial<FileProps>, msg: FlowMessage = {}, f: SftpFields = fields, id = 'ops') => {
  const n = await node(props, f, id);
  deployed.push(n);
  return (await n.input(msg))[0]!.msg;
};
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

describe('sftp credential type', () => {
  it('logs in with a password and reports the host key to pin', async () => {
    const result = await sftpCredential.test!(sftpTestFields(), services(), signal());
    expect(result.ok).toBe(true);
    expect(result.message).toContain(`connected to SFTP flowcrew-sftp@127.0.0.1:2222, directory ${SFTP_DATA}/home; host key ${sftpHostFingerprint()} (pin it`);
  });

  it('logs in with a private key and a pinned host key', async () => {
    const result = await sftpCredential.test!(sftpTestFields({ password: undefined, privateKey: sftpTestKey(), hostFingerprint: sftpHostFingerprint() }), services(), signal());
    expect(result).toMatchObject({ ok: true, message: expect.stringContaining('matches the pinned one') });
  });

  it('says what is wrong: a wrong password, another host key, nothing listening, a refused destination', async () => {
    const wrong = await sftpCredential.test!(sftpTestFields({ password: 'not-the-password' }), services(), signal());
    expect(wrong).toEqual({ ok: false, message: 'SFTP flowcrew-sftp@127.0.0.1:2222: connection test failed: authentication failed for user flowcrew-sftp (password)' });
    const pinned = await sftpCredential.test!(sftpTestFields({ hostFingerprint: `SHA256:${'A'.repeat(43)}` }), services(), signal());
    expect(pinned.message).toMatch(/connection test failed: the server's host key SHA256:\S+ is not the pinned SHA256:A{43} \(a different server, or its key changed\)/);
    const closed = await sftpCredential.test!(sftpTestFields({ port: 9 }), services(), signal());
    expect(closed.message).toMatch(/^SFTP flowcrew-sftp@127\.0\.0\.1:9: connection test failed: .*ECONNREFUSED/);
    const strict = createOutboundGuard();
    try {
      const refused = await sftpCredential.test!(sftpTestFields(), { outbound: strict } as unknown as RuntimeServices, signal());
      expect(refused.message).toMatch(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });
});

describe('sftp node', () => {
  it('writes (creating directories), appends, reads, stats, lists, moves and deletes on the server', async () => {
    expect((await one({ operation: 'write', path: 'in/a.txt' }, { payload: 'hello' })).payload).toMatchObject({ path: 'in/a.txt', size: 5, type: 'file' });
    await one({ operation: 'write', path: 'in/a.txt', mode: 'append' }, { payload: ' sftp' });
    expect((await one({ operation: 'read', path: 'in/a.txt' })).payload).toBe('hello sftp');
    expect((await one({ operation: 'stat', path: 'in/a.txt' })).payload).toMatchObject({ size: 10 });
    expect((await one({ operation: 'stat', path: 'in/none.txt' })).payload).toBeNull();
    await one({ operation: 'write', path: 'in/b.csv' }, { payload: 'x' });
    await one({ operation: 'write', path: 'in/sub/c.csv' }, { payload: 'y' });
    const listed = (await one({ operation: 'list', path: 'in', recursive: true, pattern: '**/*.csv' })).payload as Array<{ path: string }>;
    expect(listed.map((e) => e.path).sort()).toEqual(['in/b.csv', 'in/sub/c.csv']);
    expect((await failure(one({ operation: 'write', path: 'in/a.txt', mode: 'create' }, { payload: 'x' }))).message).toBe(`SFTP flowcrew-sftp@127.0.0.1:2222: write (create) "in/a.txt" failed: it already exists (EEXIST)`);
    expect((await failure(one({ operation: 'move', path: 'in/b.csv', to: 'in/a.txt' }))).message).toMatch(/move to "in\/a.txt" "in\/b.csv" failed: it already exists/);
    await one({ operation: 'move', path: 'in/b.csv', to: 'out/b.csv' });
    expect((await one({ operation: 'read', path: 'out/b.csv' })).payload).toBe('x');
    await one({ operation: 'move', path: 'out/b.csv', to: 'in/a.txt', overwrite: true });
    expect((await one({ operation: 'read', path: 'in/a.txt' })).payload).toBe('x');
    expect((await failure(one({ operation: 'delete', path: 'in' }))).message).toMatch(/delete "in" failed: the directory is not empty/);
    expect((await one({ operation: 'delete', path: 'in', recursive: true })).payload).toEqual({ path: 'in', deleted: true });
    expect((await one({ operation: 'delete', path: 'in' })).payload).toEqual({ path: 'in', deleted: false });
  });

  it('fails clearly: a missing file, a path leaving the root, a read-only credential', async () => {
    expect((await failure(one({ operation: 'read', path: 'missing.txt' }))).message).toMatch(/^SFTP flowcrew-sftp@127\.0\.0\.1:2222: read "missing.txt" failed: no such file or directory/);
    const escape = await failure(one({ operation: 'read', path: '../../../etc/passwd' }));
    expect(escape.message).toMatch(/refused: the path ".*" leads outside the configured directory/);
    expect(escape.retryable).toBe(false);
    expect((await failure(one({ operation: 'delete', path: 'x' }, {}, { ...fields, readOnly: true }, 'read-only'))).message).toMatch(/delete refused: the credential .* is read only/);
    const denied = await failure(one({ operation: 'write', path: 'x.txt' }, { payload: 'x' }, { ...fields, root: '/etc' }, 'etc'));
    expect(denied.message).toMatch(/write \(overwrite\) "x.txt" failed: .*(permission denied|Permission denied)/i);
  });

  it('streams an 8 MB file both ways through blobs, and reads it back with the key login', async () => {
    const blobs = await testBlobStore();
    const content = randomBytes(8 * 1024 * 1024);
    const ref = await blobs.put(content);
    await one({ operation: 'write', path: 'big/data.bin' }, { payload: ref });
    const keyFields = { ...fields, password: undefined, privateKey: sftpTestKey() };
    const read = await one({ operation: 'read', path: 'big/data.bin', output: 'blob' }, {}, keyFields, 'key');
    expect((read.payload as BlobRef).$blob).toBe(ref.$blob);
  });

  it('shares one connection per credential, reconnects after a credential edit, and leaves none open after 1,000 runs and a redeploy', async () => {
    const before = sftpConnections();
    await one({ operation: 'write', path: 'leak/x.txt' }, { payload: 'x' });
    const nodes: TestNode[] = [];
    for (let deploy = 0; deploy < 2; deploy++) {
      const a = await node({ operation: 'stat', path: 'leak/x.txt' }, fields, 'shared');
      const b = await node({ operation: 'read', path: 'leak/x.txt' }, fields, 'shared');
      nodes.push(a, b);
      // 1,000 runs over both deployments, 20 at a time (one SFTP channel carries concurrent requests).
      for (let i = 0; i < 25; i++) await Promise.all(Array.from({ length: 10 }, () => [a.input({}), b.input({})]).flat());
      expect(sftpConnections() - before).toBe(1);
      if (deploy === 0) {
        // A credential edit: the old connection is closed, the next run opens one with the new fields.
        a.changeCredential({ ...fields, privateKey: sftpTestKey() });
        await a.input({});
        for (let i = 0; i < 50 && sftpConnections() - before !== 1; i++) await new Promise((r) => setTimeout(r, 50));
        expect(sftpConnections() - before).toBe(1);
      }
      // Redeploy: both nodes undeployed, then deployed again.
      await a.stop();
      await b.stop();
      for (let i = 0; i < 50 && sftpConnections() !== before; i++) await new Promise((r) => setTimeout(r, 50));
      expect(sftpConnections()).toBe(before);
    }
  });
});

describe('sftp file trigger', () => {
  it('reports a new file once it stopped changing, with its content as a blob, and not files already there', async () => {
    await one({ operation: 'write', path: 'drop/old.csv' }, { payload: 'old' });
    const trigger = await createTestNode<PollProps>(sftpWatchNode, { path: 'drop', pattern: '*.csv', pollIntervalMs: 200, content: 'blob' }, { credentials: fields, credential: { id: 'sftp-watch' } });
    await trigger.start();
    try {
      await one({ operation: 'write', path: 'drop/new.csv' }, { payload: 'a,b' });
      await one({ operation: 'write', path: 'drop/skip.txt' }, { payload: 'no' });
      for (let i = 0; i < 100 && trigger.emitted.length < 1; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      expect(trigger.emitted.map((e) => e.msg.topic)).toEqual(['drop/new.csv']);
      const blobs = await testBlobStore();
      const chunks: Buffer[] = [];
      for await (const c of await blobs.get(trigger.emitted[0]!.msg.payload as BlobRef)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).toString()).toBe('a,b');
      expect(Object.keys(trigger.context.node.get('seenFiles') as object).sort()).toEqual(['drop/new.csv', 'drop/old.csv']);
    } finally {
      await trigger.stop();
    }
  });
});
