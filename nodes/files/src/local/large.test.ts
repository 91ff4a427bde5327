/**
 * A 2 GB file through the local file node: read into a blob (claim check), streamed, with the process's resident
 * memory flat (writing from a blob streams the same way: local.test.ts). File and blob store live in /dev/shm on
 * Linux (a sparse file costs nothing there until the blob store fills 2 GB of it, removed after). The file is sparse, so it costs no disk until the blob store writes it.
 */
import { open, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BlobRef } from '@flowcrew/sdk';
import { FileBlobStore } from '@flowcrew/sdk/host';
import { closeTestServices, createTestNode } from '@flowcrew/sdk/testing';
import { localFileNode } from './node.ts';

const SIZE = 2 * 1024 ** 3;
let base: string;
let blobs: FileBlobStore;
/** Memory-backed when there is one: the test is about the node streaming, not about the disk's speed. */
const scratch = process.platform === 'linux' ? '/dev/shm' : tmpdir();
const previous = process.env.FLOWCREW_FILES_DIR;

beforeAll(async () => {
  base = await mkdtemp(path.join(scratch, 'flowcrew-files-large-'));
  blobs = await FileBlobStore.open(path.join(base, '.blobs'));
  process.env.FLOWCREW_FILES_DIR = base;
  const handle = await open(path.join(base, 'big.bin'), 'w');
  await handle.truncate(SIZE);
  await handle.write('end', SIZE - 3);
  await handle.close();
});
afterAll(async () => {
  if (previous === undefined) delete process.env.FLOWCREW_FILES_DIR;
  else process.env.FLOWCREW_FILES_DIR = previous;
  await closeTestServices();
  await blobs?.close();
  await rm(base, { recursive: true, force: true });
});

it('reads a 2 GB file into a blob, streaming, with resident memory flat (< 100 MB growth)', async () => {
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const reader = await createTestNode(localFileNode, { operation: 'read', path: 'big.bin', output: 'blob' }, { services: { blobs } });
    const [read] = await reader.input({});
    const ref = read!.msg.payload as BlobRef;
    expect(ref.size).toBe(SIZE);
    expect(read!.msg.file).toMatchObject({ size: SIZE, name: 'big.bin' });
    // Too big as text: refused without reading the rest.
    const text = await createTestNode(localFileNode, { operation: 'read', path: 'big.bin' });
    await expect(text.input({})).rejects.toThrow(/larger than maxBytes/);
  } finally {
    clearInterval(sampler);
  }
  const growthMb = (peak - rssBefore) / 1024 ** 2;
  console.log(`2 GB read to blob: peak RSS growth ${growthMb.toFixed(1)} MB`);
  expect(growthMb).toBeLessThan(100);
}, 120_000);
