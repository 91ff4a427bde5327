import { readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { inPages, readRows, sendRowPages, toJsonLines, type RowPageInfo } from '../blobs.ts';
import type { FlowMessage } from '../index.ts';
import { BlobTooLargeError, FileBlobStore } from './file-blob-store.ts';

const stores: FileBlobStore[] = [];
async function newStore(): Promise<FileBlobStore> {
  const store = await FileBlobStore.temporary();
  stores.push(store);
  return store;
}
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function dataFiles(store: FileBlobStore): Promise<string[]> {
  const dir = path.join(store.dir, 'data');
  const names: string[] = [];
  for (const prefix of await readdir(dir)) names.push(...(await readdir(path.join(dir, prefix))));
  return names;
}

/** Make every stored file look old, past gc's grace period. */
async function age(store: FileBlobStore, ms = 3_600_000): Promise<void> {
  const old = new Date(Date.now() - ms);
  for (const sub of ['data', 'refs']) {
    const walk = async (dir: string): Promise<void> => {
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else await utimes(full, old, old);
      }
    };
    await walk(path.join(store.dir, sub));
  }
}

describe('file blob store (claim check)', () => {
  it('stores content once however often it is put, and streams it back', async () => {
    const store = await newStore();
    const a = await store.put('hello large world', { runId: 'run-1', contentType: 'text/plain' });
    const b = await store.put(Buffer.from('hello large world'), { runId: 'run-2' });
    expect(a).toEqual({ $blob: expect.stringMatching(/^sha256:[0-9a-f]{64}$/), size: 17, contentType: 'text/plain' });
    expect(b.$blob).toBe(a.$blob);
    expect(await dataFiles(store)).toHaveLength(1);
    expect(await text(await store.get(a))).toBe('hello large world');
  });

  it('streams a put from an async iterable without holding it', async () => {
    const store = await newStore();
    async function* chunks() {
      for (let i = 0; i < 1000; i++) yield Buffer.alloc(1024, i % 256);
    }
    const ref = await store.put(chunks(), { runId: 'run-1' });
    expect(ref.size).toBe(1024 * 1000);
  });

  it('refuses content over maxBytes and keeps nothing of it', async () => {
    const store = await newStore();
    await expect(store.put(Buffer.alloc(2048), { maxBytes: 1024 })).rejects.toBeInstanceOf(BlobTooLargeError);
    expect(await dataFiles(store)).toEqual([]);
    expect(await readdir(path.join(store.dir, 'tmp'))).toEqual([]);
  });

  it('gc removes a blob once every run that kept it is gone (run retention), and says so on get', async () => {
    const store = await newStore();
    const shared = await store.put('kept by two runs', { runId: 'run-1' });
    await store.link(shared, 'run-2');
    const only1 = await store.put('kept by run-1 only', { runId: 'run-1' });
    await age(store);
    const runs = new Set(['run-2']);
    const result = await store.gc(async (id) => runs.has(id));
    expect(result).toMatchObject({ runs: 1, blobs: 1 });
    expect(await text(await store.get(shared))).toBe('kept by two runs');
    await expect(store.get(only1)).rejects.toThrow(/is gone: the runs that kept it were removed/);
    runs.clear();
    await store.gc(async (id) => runs.has(id));
    expect(await dataFiles(store)).toEqual([]);
  });

  it('gc keeps fresh blobs (grace) and unowned ones for their time to live', async () => {
    const store = await newStore();
    const unowned = await store.put('from a trigger');
    const fresh = await store.put('just written', { runId: 'gone' });
    expect((await store.gc(async () => false)).blobs).toBe(0);
    expect(await text(await store.get(fresh))).toBe('just written');
    await age(store, 2 * 86_400_000);
    await store.gc(async () => false);
    await expect(store.get(unowned)).rejects.toThrow(/is gone/);
  });

  it('rejects references that are not blob ids (no path tricks)', async () => {
    const store = await newStore();
    await expect(store.get('sha256:../../etc/passwd')).rejects.toThrow(/not a blob reference/);
    await expect(store.put('x', { runId: '../x' })).rejects.toThrow(/not a run id/);
  });
});

describe('row pages', () => {
  it('sends a large result as page messages holding references, read back page by page', async () => {
    const store = await newStore();
    const sent: FlowMessage[] = [];
    const ctx = { runId: 'run-1', signal: new AbortController().signal, send: (m: FlowMessage | FlowMessage[] | null) => void sent.push(...(Array.isArray(m) ? m : m ? [m] : [])) };
    async function* rows() {
      for (let i = 0; i < 2500; i++) yield { id: i, name: `row ${i}` };
    }
    const total = await sendRowPages(ctx, store, inPages(rows(), 1000), { base: { topic: 'rows' } });
    expect(total).toBe(2500);
    expect(sent.map((m) => m.page)).toEqual<RowPageInfo[]>([
      { index: 0, rows: 1000, rowsSoFar: 1000, last: false },
      { index: 1, rows: 1000, rowsSoFar: 2000, last: false },
      { index: 2, rows: 500, rowsSoFar: 2500, last: true },
    ]);
    expect(sent[0]!.topic).toBe('rows');
    const back: unknown[] = [];
    for await (const page of readRows(store, sent[2]!.payload as never, 200)) {
      expect(page.length).toBeLessThanOrEqual(200);
      back.push(...page);
    }
    expect(back).toHaveLength(500);
    expect(back[0]).toEqual({ id: 2000, name: 'row 2000' });
  });

  it('sends one empty last page for an empty result', async () => {
    const store = await newStore();
    const sent: FlowMessage[] = [];
    const ctx = { runId: 'run-1', signal: new AbortController().signal, send: (m: FlowMessage | FlowMessage[] | null) => void sent.push(m as FlowMessage) };
    expect(await sendRowPages(ctx, store, inPages([], 10))).toBe(0);
    expect(sent.map((m) => m.page)).toEqual([{ index: 0, rows: 0, rowsSoFar: 0, last: true }]);
  });

  it('says which line of a JSON Lines blob is broken', async () => {
    const store = await newStore();
    const ref = await store.put('{"a":1}\nnot json\n');
    await expect(async () => {
      for await (const _ of readRows(store, ref)) void _;
    }).rejects.toThrow(/line 2 is not JSON/);
    const lines: string[] = [];
    for await (const chunk of toJsonLines([{ a: 1 }, 'b'])) lines.push(chunk);
    expect(lines.join('')).toBe('{"a":1}\n"b"\n');
  });
});
