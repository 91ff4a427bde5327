/**
 * Bytes ↔ message payloads for the TCP and UDP nodes. Messages are stored with every run, so bytes travel as
 * base64 text (as the http-request node's "binary" return), UTF-8 text, or base64 as Node-RED's datatype says.
 */
export type DataType = 'buffer' | 'utf8' | 'base64';

/** Node-RED's `datatype`: buffer and base64 both become base64 text here (a Buffer does not survive storage). */
export function bytesToPayload(bytes: Buffer, datatype: DataType | undefined): string {
  return datatype === 'utf8' ? bytes.toString('utf8') : bytes.toString('base64');
}

/** A payload to send, as Node-RED writes it: Buffers as they are, base64 text decoded when `base64` is set, and
 * anything else as `"" + payload` (a Buffer that went through JSON is turned back into bytes first). */
export function payloadToBytes(payload: unknown, base64: boolean): Buffer {
  if (Buffer.isBuffer(payload)) return payload;
  if (typeof payload === 'string') return base64 ? Buffer.from(payload, 'base64') : Buffer.from(payload, 'utf8');
  if (payload !== null && typeof payload === 'object' && (payload as { type?: unknown }).type === 'Buffer' && Array.isArray((payload as { data?: unknown }).data)) {
    return Buffer.from((payload as { data: number[] }).data);
  }
  return Buffer.from(String(payload), 'utf8');
}

/** Node-RED writes "\n" in the editor as the two characters \ and n. */
export function unescapeDelimiter(text: string | undefined): string {
  if (!text) return '';
  return text.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\t/g, '\t').replace(/\\0/g, '\0');
}

export const toBool = (v: unknown) => v === true || v === 'true';

export function toPort(value: unknown, what: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`${what}: port must be a number from 0 to 65535, got ${JSON.stringify(value)}`);
  return port;
}

/** Where listening nodes bind: all interfaces, as Node-RED; FLOWCREW_NET_BIND narrows it (e.g. 127.0.0.1). */
export const bindHost = (): string | undefined => process.env.FLOWCREW_NET_BIND || undefined;
