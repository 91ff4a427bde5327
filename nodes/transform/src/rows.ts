/**
 * Where the pack's nodes read rows from and how they hand results on: an array in the message, or a JSON Lines blob
 * (a database node's `blob` or `pages` output) read a page at a time; small results in `msg.payload`, large ones as
 * a blob (claim check). Nothing here holds more than a page of rows, or more than `maxPayloadBytes` of output.
 */
import { inPages, isBlobRef, NodeInputError, readRows, type BlobRef, type BlobServices } from '@flowcrew/sdk';

export type Row = Record<string, unknown>;

/** The rows at `value` in pages of `pageSize`: an array of rows, or a blob reference of JSON Lines rows. */
export function rowPages(value: unknown, blobs: BlobServices, pageSize: number, where: string): AsyncIterable<unknown[]> {
  if (Array.isArray(value)) return inPages(value, pageSize);
  if (isBlobRef(value)) return readRows(blobs, value, pageSize);
  throw new NodeInputError(`${where} must be an array of rows or a blob reference of JSON Lines rows, got ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value}`);
}

/** Pages of rows, each row checked to be an object (a failure names its position, counted from 0). */
export async function* objectPages(pages: AsyncIterable<unknown[]>, signal?: AbortSignal): AsyncIterable<Row[]> {
  let index = 0;
  for await (const page of pages) {
    if (signal?.aborted) throw signal.reason as Error;
    for (const row of page) {
      if (row === null || typeof row !== 'object' || Array.isArray(row)) throw new NodeInputError(`row ${index} is not an object (got ${row === null ? 'null' : Array.isArray(row) ? 'an array' : typeof row})`);
      index++;
    }
    yield page as Row[];
  }
}

export type OutputMode = 'auto' | 'payload' | 'blob';

export interface OutputOptions {
  mode: OutputMode;
  /** auto: content up to this size goes in msg.payload, larger into a blob. */
  maxPayloadBytes: number;
  blobs: BlobServices;
  runId: string;
  contentType: string;
  name?: string;
  /** Binary content (xlsx) is never put in a message (messages are JSON): always a blob. */
  binary?: boolean;
}

/**
 * Consume `chunks` into msg.payload (text) or a blob. With `auto`, chunks are kept only up to `maxPayloadBytes`;
 * past that, what was kept and the rest stream into a blob.
 */
export async function collectOutput(chunks: AsyncIterable<Buffer | string>, options: OutputOptions): Promise<{ payload: string | BlobRef; bytes: number }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const kept: Buffer[] = [];
  let bytes = 0;
  if (options.mode !== 'blob' && !options.binary) {
    for (;;) {
      const next = await iterator.next();
      if (next.done) return { payload: Buffer.concat(kept).toString('utf8'), bytes };
      const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
      kept.push(chunk);
      bytes += chunk.length;
      if (bytes > options.maxPayloadBytes) {
        if (options.mode === 'payload') {
          await iterator.return?.();
          throw new NodeInputError(`the result is larger than maxPayloadBytes (${options.maxPayloadBytes} bytes): use output "blob" or "auto" for large results`);
        }
        break;
      }
    }
  }
  async function* rest(): AsyncIterable<Buffer | string> {
    yield* kept.splice(0);
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  const ref = await options.blobs.put(rest(), { runId: options.runId, contentType: options.contentType, name: options.name });
  return { payload: ref, bytes: ref.size };
}
