/**
 * The local file node and trigger on the real file system: every operation, confinement to the configured directory
 * (.., symbolic links out, links planted for files not yet written), a credential's narrower root, errors.
 */
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBlobRef, readRows, type BlobRef, type FlowMessage } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, testBlobStore, type TestNode } from '@flowcrew/sdk/testing';
import type { FileProps } from '../operations.ts';
import { localFilesCredential } from './root.ts';
import { localFileNode } from './node.ts';
import { localFileWatchNode, type LocalWatchProps } from './watch.ts';

let base: string;
let root: string;
let outside: string;
const previous = process.env.FLOWCREW_FILES_DIR;

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'flowcrew-files-'));
  root = path.join(base, 'root');
  outside = path.join(base, 'outside');
  await mkdir(root);
  await mkdir(outside);
  await writeFile(path.join(outside, 'secret.txt'), 'top secret');
  process.env.FLOWCREW_FILES_DIR = root;
});
afterAll(async () => {
  if (previous === undefined) delete process.env.FLOWCREW_FILES_DIR;
  else process.env.FLOWCREW_FILES_DIR = previous;
  await closeTestServices();
  await rm(base, { recursive: true, force: true });
});

const run = async (props: Partial<FileProps>, msg: FlowMessage = {}, credentials?: Record<string, unknown>) => {
  const node = await createTestNode(localFileNode, props, credentials ? { credentials, credential: { id: `local-${Math.random()}` } } : {});
  const sent = await node.input(msg);
  return sent;
};
const one = async (props: Partial<FileProps>, msg: FlowMessage = {}, credentials?: Record<string, unknown>) => (await run(props, msg, credentials))[0]!.msg;

async function failure(promise: Promise<unknown>): Promise<Error & { retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('local file node: operations', () => {
  it('writes text (creating directories), reads it back, appends, and stats it', async () => {
    const written = await one({ operation: 'write', path: 'reports/2026/a.txt' }, { payload: 'hello' });
    expect(written.payload).toMatchObject({ path: 'reports/2026/a.txt', name: 'a.txt', type: 'file', size: 5 });
    await one({ operation: 'write', path: 'reports/2026/a.txt', mode: 'append' }, { payload: ' world' });
    expect((await one({ operation: 'read', path: '/reports/2026/a.txt' })).payload).toBe('hello world');
    expect((await one({ operation: 'read' }, { filename: 'reports/2026/a.txt' })).payload).toBe('hello world');
    expect((await one({ operation: 'read', path: 'reports/2026/a.txt', output: 'base64' })).payload).toBe(Buffer.from('hello world').toString('base64'));
    expect((await one({ operation: 'stat', path: 'reports/2026/a.txt' })).payload).toMatchObject({ size: 11, type: 'file' });
    expect((await one({ operation: 'stat', path: 'reports/missing.txt' })).payload).toBeNull();
    // Overwrite leaves no temporary file behind.
    await one({ operation: 'write', path: 'reports/2026/a.txt' }, { payload: { json: true } });
    expect(await readFile(path.join(root, 'reports/2026/a.txt'), 'utf8')).toBe('{"json":true}');
    expect(await readdir(path.join(root, 'reports/2026'))).toEqual(['a.txt']);
  });

  it('writes base64 and buffers, and refuses create over an existing file naming the path', async () => {
    await one({ operation: 'write', path: 'bin/b.dat', encoding: 'base64' }, { payload: Buffer.from([1, 2, 3]).toString('base64') });
    expect([...(await readFile(path.join(root, 'bin/b.dat')))]).toEqual([1, 2, 3]);
    await one({ operation: 'write', path: 'bin/c.dat' }, { payload: JSON.parse(JSON.stringify(Buffer.from([4, 5]))) });
    expect([...(await readFile(path.join(root, 'bin/c.dat')))]).toEqual([4, 5]);
    const error = await failure(one({ operation: 'write', path: 'bin/b.dat', mode: 'create' }, { payload: 'x' }));
    expect(error.message).toBe(`local files in ${root}: write (create) "bin/b.dat" failed: it already exists (EEXIST)`);
    expect(error.retryable).toBe(false);
  });

  it('reads a missing file and a directory with clear errors', async () => {
    expect((await failure(one({ operation: 'read', path: 'nope.txt' }))).message).toBe(`local files in ${root}: read "nope.txt" failed: no such file or directory (ENOENT)`);
    expect((await failure(one({ operation: 'read', path: 'reports' }))).message).toMatch(/read "reports" failed: it is a directory/);
    expect((await failure(one({ operation: 'read', path: 'reports/2026/a.txt', maxBytes: 4 }))).message).toMatch(/larger than maxBytes \(4 bytes\).*output "blob"/);
  });

  it('lists a directory, recursively and by pattern, as an array and in pages', async () => {
    await mkdir(path.join(root, 'list/sub'), { recursive: true });
    for (const name of ['a.csv', 'b.csv', 'c.json', 'sub/d.csv']) await writeFile(path.join(root, 'list', name), name);
    const flat = (await one({ operation: 'list', path: 'list' })).payload as Array<{ path: string; type: string }>;
    expect(flat.map((e) => e.path).sort()).toEqual(['list/a.csv', 'list/b.csv', 'list/c.json', 'list/sub']);
    const csv = (await one({ operation: 'list', path: 'list', recursive: true, pattern: '**/*.csv' })).payload as Array<{ path: string }>;
    expect(csv.map((e) => e.path).sort()).toEqual(['list/a.csv', 'list/b.csv', 'list/sub/d.csv']);
    expect((await failure(one({ operation: 'list', path: 'list', maxEntries: 2 }))).message).toMatch(/more than 2 entries \(maxEntries\): list it in pages/);
    const pages = await run({ operation: 'list', path: 'list', recursive: true, listOutput: 'pages', pageSize: 2 });
    expect(pages.map((s) => s.msg.page)).toEqual([
      { index: 0, rows: 2, rowsSoFar: 2, last: false },
      { index: 1, rows: 2, rowsSoFar: 4, last: false },
      { index: 2, rows: 1, rowsSoFar: 5, last: true },
    ]);
    const blobs = await testBlobStore();
    const rows: Array<{ path: string }> = [];
    for (const s of pages) for await (const page of readRows<{ path: string }>(blobs, s.msg.payload as BlobRef)) rows.push(...page);
    expect(rows.map((r) => r.path).sort()).toEqual(['list/a.csv', 'list/b.csv', 'list/c.json', 'list/sub', 'list/sub/d.csv']);
  });

  it('moves (not over an existing target unless asked) and deletes', async () => {
    await writeFile(path.join(root, 'm1.txt'), 'one');
    await writeFile(path.join(root, 'm2.txt'), 'two');
    expect((await failure(one({ operation: 'move', path: 'm1.txt', to: 'm2.txt' }))).message).toMatch(/move to "m2.txt" "m1.txt" failed: it already exists/);
    await one({ operation: 'move', path: 'm1.txt', to: 'moved/m1.txt' });
    expect(await readFile(path.join(root, 'moved/m1.txt'), 'utf8')).toBe('one');
    await one({ operation: 'move', path: 'm2.txt', overwrite: true }, { to: 'moved/m1.txt' });
    expect(await readFile(path.join(root, 'moved/m1.txt'), 'utf8')).toBe('two');
    expect((await one({ operation: 'delete', path: 'moved/m1.txt' })).payload).toEqual({ path: 'moved/m1.txt', deleted: true });
    expect((await one({ operation: 'delete', path: 'moved/m1.txt' })).payload).toEqual({ path: 'moved/m1.txt', deleted: false });
    expect((await failure(one({ operation: 'delete', path: 'moved/m1.txt', missingOk: false }))).message).toMatch(/delete "moved\/m1.txt" failed: no such file/);
    expect((await failure(one({ operation: 'delete', path: 'list' }))).message).toMatch(/delete "list" failed: the directory is not empty/);
    await one({ operation: 'delete', path: 'list', recursive: true });
    expect((await one({ operation: 'stat', path: 'list' })).payload).toBeNull();
  });

  it('writes a blob reference by streaming it, and reads a file back as a blob', async () => {
    const blobs = await testBlobStore();
    const ref = await blobs.put('x'.repeat(100_000));
    await one({ operation: 'write', path: 'blob/in.txt' }, { payload: ref });
    expect((await readFile(path.join(root, 'blob/in.txt'), 'utf8')).length).toBe(100_000);
    const read = await one({ operation: 'read', path: 'blob/in.txt', output: 'blob' });
    expect(isBlobRef(read.payload)).toBe(true);
    expect((read.payload as BlobRef).$blob).toBe(ref.$blob);
  });
});

describe('local file node: confinement', () => {
  it('refuses paths with .. leading outside, for every operation, without touching the file', async () => {
    for (const props of [
      { operation: 'read', path: '../outside/secret.txt' },
      { operation: 'read', path: 'a/../../outside/secret.txt' },
      { operation: 'write', path: '../outside/new.txt' },
      { operation: 'delete', path: '../outside/secret.txt' },
      { operation: 'move', path: 'x', to: '../../etc/passwd' },
      { operation: 'list', path: '..' },
    ] as Array<Partial<FileProps>>) {
      const error = await failure(one(props, { payload: 'x' }));
      expect(error.message).toMatch(/refused: the path ".*" leads outside the configured directory \(\.\.\)/);
      expect(error.retryable).toBe(false);
    }
    expect(await readdir(outside)).toEqual(['secret.txt']);
  });

  it('refuses symbolic links leading outside: to a file, to a directory, and for a file not yet written', async () => {
    await symlink(path.join(outside, 'secret.txt'), path.join(root, 'link-to-secret'));
    await symlink(outside, path.join(root, 'link-dir'));
    await symlink(path.join(outside, 'planted.txt'), path.join(root, 'dangling'));
    expect((await failure(one({ operation: 'read', path: 'link-to-secret' }))).message).toMatch(/"link-to-secret" leads outside .* through a symbolic link/);
    expect((await failure(one({ operation: 'read', path: 'link-dir/secret.txt' }))).message).toMatch(/through a symbolic link/);
    expect((await failure(one({ operation: 'write', path: 'link-dir/new/deeper.txt' }, { payload: 'x' }))).message).toMatch(/through a symbolic link/);
    expect((await failure(one({ operation: 'list', path: 'link-dir' }))).message).toMatch(/through a symbolic link/);
    // A dangling link planted where a new file will be written: never followed.
    expect((await failure(one({ operation: 'write', path: 'dangling', mode: 'append' }, { payload: 'x' }))).message).toMatch(/symbolic link/);
    expect(await readdir(outside)).toEqual(['secret.txt']);
    // The link itself may be deleted (it is inside); what it points to is not touched.
    await one({ operation: 'delete', path: 'link-to-secret' });
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('top secret');
    // A link inside the root is fine.
    await writeFile(path.join(root, 'target.txt'), 'inside');
    await symlink(path.join(root, 'target.txt'), path.join(root, 'inner-link'));
    expect((await one({ operation: 'read', path: 'inner-link' })).payload).toBe('inside');
  });

  it('a local-files credential narrows the root to a subdirectory, and can be read only', async () => {
    await mkdir(path.join(root, 'team-a'), { recursive: true });
    await writeFile(path.join(root, 'team-a/x.txt'), 'a');
    const creds = { root: 'team-a' };
    expect((await one({ operation: 'read', path: 'x.txt' }, {}, creds)).payload).toBe('a');
    expect((await failure(one({ operation: 'read', path: '../target.txt' }, {}, creds))).message).toMatch(/leads outside/);
    expect((await failure(one({ operation: 'write', path: 'y.txt' }, { payload: 'y' }, { root: 'team-a', readOnly: true }))).message).toMatch(/write refused: the credential .* is read only/);
    expect((await failure(one({ operation: 'read', path: 'x' }, {}, { root: '../outside' }))).message).toMatch(/leads outside/);
    expect((await failure(one({ operation: 'read', path: 'secret.txt' }, {}, { root: 'link-dir' }))).message).toMatch(/through a symbolic link/);
  });

  it('the credential test says which directory it reached', async () => {
    const services = { dataDir: ':memory:' } as never;
    expect(await localFilesCredential.test!({ root: 'team-a' }, services, new AbortController().signal)).toEqual({ ok: true, message: `${root}/team-a is readable (1 entries)` });
    expect((await localFilesCredential.test!({ root: '../x' }, services, new AbortController().signal)).ok).toBe(false);
  });
});

describe('local file trigger', () => {
  const waitFor = async (node: TestNode, count: number) => {
    for (let i = 0; i < 200 && node.emitted.length < count; i++) await new Promise((r) => setTimeout(r, 50));
    return node.emitted;
  };

  for (const polling of ['auto', 'always'] as const) {
    it(`starts a run for each new matching file once it is complete (${polling === 'auto' ? 'file system events' : 'polling'}), not for files already there`, async () => {
      const dir = path.join(root, `inbox-${polling}`);
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'old.csv'), 'old');
      const node = await createTestNode<LocalWatchProps>(localFileWatchNode, { path: `inbox-${polling}`, pattern: '*.csv', polling, pollIntervalMs: 100, stableMs: 200, content: 'blob' });
      await node.start();
      try {
        await writeFile(path.join(dir, 'skip.txt'), 'not csv');
        await writeFile(path.join(dir, 'new.csv'), 'a,b\n1,2\n');
        const emitted = await waitFor(node, 1);
        await new Promise((r) => setTimeout(r, 300));
        expect(emitted).toHaveLength(1);
        const msg = emitted[0]!.msg;
        expect(msg.file).toMatchObject({ path: `inbox-${polling}/new.csv`, size: 8, type: 'file' });
        expect(msg.topic).toBe(`inbox-${polling}/new.csv`);
        const blobs = await testBlobStore();
        const chunks: Buffer[] = [];
        for await (const c of await blobs.get(msg.payload as BlobRef)) chunks.push(c as Buffer);
        expect(Buffer.concat(chunks).toString()).toBe('a,b\n1,2\n');
      } finally {
        await node.stop();
      }
    });
  }

  it('retries a run that could not be stored, then logs it', async () => {
    await mkdir(path.join(root, 'retry'), { recursive: true });
    let calls = 0;
    const node = await createTestNode<LocalWatchProps>(localFileWatchNode, { path: 'retry', stableMs: 0 }, {
      onEmit: async () => {
        calls++;
        if (calls === 1) throw new Error('storage unavailable');
        return { runId: 'run-ok' };
      },
    });
    await node.start();
    try {
      await writeFile(path.join(root, 'retry/r.txt'), 'r');
      await waitFor(node, 2);
      expect(node.emitted).toHaveLength(2);
    } finally {
      await node.stop();
    }
  });
});
