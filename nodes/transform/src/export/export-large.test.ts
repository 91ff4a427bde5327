/** The export node on 1 M rows: memory stays flat (retained memory sampled after GCs while it runs). */
import { afterAll, describe, expect, it } from 'vitest';
import type { BlobRef } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, testBlobStore } from '@flowcrew/sdk/testing';
import { jsonLinesRows, peakRetained } from '../test/memory.ts';
import { exportNode } from './node.ts';

afterAll(closeTestServices);

const exporter = (props: Parameters<typeof createTestNode<unknown>>[1]) => createTestNode(exportNode, props as never);

describe('large inputs (the bench prints 1 M rows of every format with peak RSS)', () => {
  // About 130 MB of JSON Lines in and 90 MB of CSV out: holding either would show as tens of MB retained.
  it('exports a 1 M-row JSON Lines blob to CSV holding a page at a time', async () => {
    const blobs = await testBlobStore();
    const input = await blobs.put(jsonLinesRows(1_000_000), { contentType: 'application/x-ndjson' });
    const n = await exporter({ format: 'csv', pageSize: 2000 });
    const { result, peakBytes } = await peakRetained(() => n.input({ payload: input }), 2000);
    const out = result[0]!.msg;
    expect(out.export).toMatchObject({ rows: 1_000_000, bytes: (out.payload as BlobRef).size });
    expect((out.payload as BlobRef).size).toBeGreaterThan(70 * 1024 * 1024);
    expect(peakBytes).toBeLessThan(24 * 1024 * 1024);
  }, 60_000); // ~20 s here; the margin is for a loaded CI machine
});
