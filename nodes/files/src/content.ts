/**
 * File content in and out of messages. Small content travels in the message (text or base64); large content as a
 * claim check: a blob reference (`services.blobs`), streamed from and to the file, never held whole in memory.
 */
import { Readable } from 'node:stream';
import { isBlobRef, NodeInputError, type BlobRef, type BlobServices } from '@flowcrew/sdk';

export type ReadOutput = 'text' | 'base64' | 'blob';

/** The content of `value` (a message property) as a stream, and its size when known. */
export async function contentStream(value: unknown, encoding: 'utf8' | 'base64', blobs: BlobServices, where: string): Promise<{ stream: Readable; size?: number }> {
  if (isBlobRef(value)) return { stream: await blobs.get(value), size: value.size };
  let bytes: Buffer;
  if (typeof value === 'string') bytes = Buffer.from(value, encoding);
  else if (Buffer.isBuffer(value) || value instanceof Uint8Array) bytes = Buffer.from(value);
  else if (isSerialisedBuffer(value)) bytes = Buffer.from(value.data);
  else if (value === undefined || value === null) throw new NodeInputError(`${where} is empty: nothing to write (put text, base64, a buffer or a blob reference there)`);
  else bytes = Buffer.from(JSON.stringify(value), 'utf8');
  return { stream: Readable.from([bytes]), size: bytes.length };
}

/** Content with a newline at the end, as Node-RED's file node writes it: text and JSON values; bytes and blobs as they are. */
export function withNewline(value: unknown): unknown {
  if (typeof value === 'string') return `${value}\n`;
  if (value === undefined || value === null || isBlobRef(value) || Buffer.isBuffer(value) || value instanceof Uint8Array || isSerialisedBuffer(value)) return value;
  return `${JSON.stringify(value)}\n`;
}

/** A Buffer after a trip through JSON: `{ type: 'Buffer', data: [...] }`. */
function isSerialisedBuffer(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data);
}

/**
 * Turn a read stream into what goes into `msg.payload`: text or base64 (refused past `maxBytes`, the stream is
 * closed at once), or a blob reference (any size, stored while it streams).
 */
export async function readContent(
  stream: Readable,
  output: ReadOutput,
  options: { maxBytes: number; blobs: BlobServices; runId?: string; name: string; encoding?: BufferEncoding; path: string },
): Promise<string | BlobRef> {
  if (output === 'blob') return options.blobs.put(stream as AsyncIterable<Uint8Array>, { runId: options.runId, name: options.name });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > options.maxBytes) {
        throw new NodeInputError(`"${options.path}" is larger than maxBytes (${options.maxBytes} bytes) for output ${output}: read it as a blob (output "blob") to stream it`);
      }
      chunks.push(chunk);
    }
  } finally {
    stream.destroy();
  }
  const all = Buffer.concat(chunks, size);
  return output === 'base64' ? all.toString('base64') : all.toString(options.encoding ?? 'utf8');
}
