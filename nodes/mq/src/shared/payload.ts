/**
 * Message bodies: what a publish node sends for `msg.payload`, and what a consume trigger puts in `msg.payload` for
 * the bytes it received. Large bodies can go into the blob store instead (claim check): the run then carries a
 * reference, not the bytes.
 */
import type { BlobServices, FlowMessage } from '@flowcrew/sdk';
import { isBlobRef } from '@flowcrew/sdk';
import { PoisonMessageError } from './errors.ts';

export type BodyFormat = 'auto' | 'json' | 'text' | 'base64' | 'blob';

export const bodyFormatSchema = {
  title: 'Payload as',
  enum: ['auto', 'json', 'text', 'base64', 'blob'],
  default: 'auto',
  description:
    'auto: parsed as JSON when it parses, else text. json: must be JSON (a message that is not is dead-lettered at once). text: UTF-8 text. base64: the bytes as base64 text. blob: stored once in the blob store, msg.payload is a reference (for large or binary bodies).',
} as const;

/** The bytes received → msg.payload. `runId`-less blobs are linked to the run by the runtime's retention (a day). */
export async function decodeBody(body: Buffer, format: BodyFormat, blobs: BlobServices): Promise<unknown> {
  switch (format) {
    case 'text':
      return body.toString('utf8');
    case 'base64':
      return body.toString('base64');
    case 'blob':
      return blobs.put(body);
    case 'json':
      try {
        return JSON.parse(body.toString('utf8'));
      } catch (error) {
        throw new PoisonMessageError(`the message is not JSON (${(error as Error).message}); first bytes: ${JSON.stringify(body.subarray(0, 60).toString('utf8'))}`);
      }
    default: {
      const text = body.toString('utf8');
      if (text.length > 0 && /^[\s]*[[{"\d-tfn]/.test(text)) {
        try {
          return JSON.parse(text);
        } catch {
          /* not JSON: the text as is */
        }
      }
      return text;
    }
  }
}

/** msg.payload → bytes to send: a Buffer as is, a blob reference read back, a string as UTF-8, anything else as JSON. */
export async function encodeBody(payload: unknown, blobs: BlobServices): Promise<{ body: Buffer; contentType: string }> {
  if (Buffer.isBuffer(payload)) return { body: payload, contentType: 'application/octet-stream' };
  if (payload instanceof Uint8Array) return { body: Buffer.from(payload), contentType: 'application/octet-stream' };
  if (isBlobRef(payload)) {
    const chunks: Buffer[] = [];
    for await (const chunk of await blobs.get(payload)) chunks.push(Buffer.from(chunk as Uint8Array));
    return { body: Buffer.concat(chunks), contentType: 'application/octet-stream' };
  }
  if (typeof payload === 'string') return { body: Buffer.from(payload, 'utf8'), contentType: 'text/plain' };
  return { body: Buffer.from(JSON.stringify(payload ?? null), 'utf8'), contentType: 'application/json' };
}

/** Header values from msg.headers (strings, numbers, booleans kept; others as JSON). */
export function messageHeaders(msg: FlowMessage): Record<string, string | number | boolean> {
  const raw = msg.headers;
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const out: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    if (value === undefined || value === null) continue;
    out[key] = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? value : JSON.stringify(value);
  }
  return out;
}
