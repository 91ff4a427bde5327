/**
 * Large results without holding them: a claim check for big payloads, and pages for row results.
 *
 * `services.blobs.put(data)` stores bytes once (content-addressed: the same bytes are stored once however often
 * they are put) and returns a small reference, `{ $blob, size }`, that travels in messages instead of the bytes;
 * `get(ref)` streams them back. A blob is kept while a run that put it (`runId`) is kept: run retention removes it.
 *
 * Rows: a node reading a large result sends it as pages, each page a blob of JSON Lines and each a message of its
 * own (`sendRowPages`); the next node reads a page back with `readRows`. Neither holds more than a page.
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { FlowMessage, InputContext } from './index.ts';

/** A reference to a stored blob, as it travels in a message (JSON). */
export interface BlobRef {
  /** 'sha256:<hex>' of the content. */
  $blob: string;
  size: number;
  contentType?: string;
  /** A file name, when the content came from one. */
  name?: string;
}

export type BlobSource = Buffer | Uint8Array | string | AsyncIterable<Uint8Array | string>;

export interface BlobPutOptions {
  contentType?: string;
  name?: string;
  /**
   * The run the blob belongs to (`ctx.runId`): it is kept while that run is kept. Without one (a trigger, before its
   * run exists) it is kept for a day unless `link`ed to a run meanwhile.
   */
  runId?: string;
  /** Refuse content larger than this (the put rejects; nothing is kept). */
  maxBytes?: number;
}

export interface BlobServices {
  put(data: BlobSource, options?: BlobPutOptions): Promise<BlobRef>;
  /** The content as a stream. Rejects, saying why, for a blob that is gone (its runs were removed). */
  get(ref: BlobRef | string): Promise<Readable>;
  /** Keep a blob as long as `runId` is kept too (a trigger links what it put to the run its emit started). */
  link(ref: BlobRef | string, runId: string): Promise<void>;
}

export function isBlobRef(value: unknown): value is BlobRef {
  return typeof value === 'object' && value !== null && typeof (value as BlobRef).$blob === 'string' && /^sha256:[0-9a-f]{64}$/.test((value as BlobRef).$blob);
}

export const JSON_LINES = 'application/x-ndjson';

/** Rows as JSON Lines (one JSON value per line), for `blobs.put`. */
export async function* toJsonLines(rows: Iterable<unknown> | AsyncIterable<unknown>): AsyncIterable<string> {
  let chunk = '';
  for await (const row of rows) {
    chunk += `${JSON.stringify(row)}\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** Group the items of `source` into arrays of `size` (the last one shorter). */
export async function* inPages<T>(source: Iterable<T> | AsyncIterable<T>, size: number): AsyncIterable<T[]> {
  if (!(size >= 1)) throw new RangeError(`page size must be at least 1, got ${size}`);
  let page: T[] = [];
  for await (const item of source) {
    page.push(item);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}

/** The rows of a JSON Lines blob, in pages of `pageSize`, read as they are needed. */
export async function* readRows<R = unknown>(blobs: BlobServices, ref: BlobRef | string, pageSize = 1000): AsyncIterable<R[]> {
  const stream = await blobs.get(ref);
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  let page: R[] = [];
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      if (!text.trim()) continue;
      try {
        page.push(JSON.parse(text) as R);
      } catch (error) {
        throw new Error(`blob ${typeof ref === 'string' ? ref : ref.$blob}: line ${line} is not JSON: ${(error as Error).message}`);
      }
      if (page.length >= pageSize) {
        yield page;
        page = [];
      }
    }
    if (page.length > 0) yield page;
  } finally {
    lines.close();
    stream.destroy();
  }
}

/** What `sendRowPages` puts beside the page reference in each message. */
export interface RowPageInfo {
  /** 0-based. */
  index: number;
  rows: number;
  /** Rows sent in this and the earlier pages. */
  rowsSoFar: number;
  last: boolean;
}

/**
 * Send `pages` as messages, one per page: each page is stored as a JSON Lines blob of the run and the message
 * carries its reference (`msg.payload`) and `msg.page` (RowPageInfo). Holds one page at a time. Returns the number
 * of rows sent. A result with no rows sends one message with an empty page (`rows: 0`), so the flow goes on.
 */
export async function sendRowPages(
  ctx: Pick<InputContext, 'send' | 'runId' | 'signal'>,
  blobs: BlobServices,
  pages: AsyncIterable<unknown[]>,
  options: { base?: FlowMessage; port?: number } = {},
): Promise<number> {
  const send = async (page: unknown[], index: number, rowsSoFar: number, last: boolean) => {
    const ref = await blobs.put(toJsonLines(page), { runId: ctx.runId, contentType: JSON_LINES });
    const info: RowPageInfo = { index, rows: page.length, rowsSoFar, last };
    ctx.send({ ...options.base, payload: ref, page: info }, options.port ?? 0);
  };
  let index = 0;
  let total = 0;
  // One page of look-ahead, so the last page can say it is the last.
  let previous: unknown[] | undefined;
  for await (const page of pages) {
    if (ctx.signal.aborted) throw ctx.signal.reason as Error;
    if (previous) {
      total += previous.length;
      await send(previous, index++, total, false);
    }
    previous = page;
  }
  previous ??= [];
  total += previous.length;
  await send(previous, index, total, true);
  return total;
}
