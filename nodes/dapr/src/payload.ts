/** How a message payload travels to Dapr and back: JSON stays JSON, text is text, a Buffer is bytes. */
import { Buffer } from 'node:buffer';

export interface EncodedPayload {
  body: string | Uint8Array;
  contentType: string;
}

export function encodePayload(payload: unknown): EncodedPayload {
  if (typeof payload === 'string') return { body: payload, contentType: 'text/plain; charset=utf-8' };
  if (payload instanceof Uint8Array) return { body: payload, contentType: 'application/octet-stream' };
  const json = JSON.stringify(payload ?? null) as string | undefined;
  if (json === undefined) throw new TypeError(`msg.payload is not JSON data (got ${typeof payload})`);
  return { body: json, contentType: 'application/json' };
}

/** A delivered event's data: JSON content types parsed, text as a string, anything else a Buffer. */
export function decodeData(data: Uint8Array, contentType: string): unknown {
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  const buffer = Buffer.from(data);
  if (type === 'application/json' || type.endsWith('+json')) {
    if (buffer.length === 0) return null;
    return JSON.parse(buffer.toString('utf8')) as unknown;
  }
  if (type.startsWith('text/') || type === '') return buffer.toString('utf8');
  return buffer;
}
