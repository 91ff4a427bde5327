/**
 * Message and JSON texts for the run write path (run-writes.ts): each message serialised once per write and checked
 * against the message limits where its text is made anyway.
 */
import { findTooDeep, hasMoreContainersThan } from '../flow/json-depth.ts';
import { UnstorableMessageError, type MessageLimits, type OutputRecord } from './types.ts';

/** JSON text for a TEXT column; undefined → NULL. Unserialisable values (BigInt, cycles) fail with a clear error. */
export function json(value: unknown, what = 'value'): string | null {
  if (value === undefined) return null;
  if (value === null) return 'null'; // most usage and outputs columns of a hop: no stringify call for them
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(`Cannot store ${what}: it is not JSON-serialisable (${(error as Error).message}).`);
  }
  if (text === undefined) throw new TypeError(`Cannot store ${what}: a ${typeof value} is not JSON-serialisable.`);
  return text;
}

/**
 * Message JSON for one write call: each message object is serialised once (a node's output is usually also the next
 * invocation's input) and checked against the limits where the text is made anyway: the size from the text, the depth
 * from a bracket count in the text (an object walk only for messages with more containers than the depth limit).
 * Objects may change after the call, so the cache lives only as long as one write.
 */
export class MessageCache {
  /** The first object serialised (along a wire, the only one: no Map is made per hop). */
  private first: object | undefined;
  private firstText: string | null = null;
  private more: Map<object, string | null> | undefined;

  constructor(private readonly limits: MessageLimits) {}

  json(value: unknown, what: string): string | null {
    if (value === null || typeof value !== 'object') return messageJson(value, what, this.limits);
    if (value === this.first) return this.firstText;
    let text = this.more?.get(value);
    if (text === undefined) {
      text = messageJson(value, what, this.limits);
      if (this.first === undefined) {
        this.first = value;
        this.firstText = text;
      } else (this.more ??= new Map()).set(value, text);
    }
    return text;
  }

  /** Outputs as stored: `[{"port":0,"msg":...}]`, each message checked on its own. */
  outputs(outputs: readonly OutputRecord[] | null | undefined, what: string): string | null {
    if (!Array.isArray(outputs)) return json(outputs, what);
    if (outputs.length === 1) return `[{"port":${Number(outputs[0]!.port)},"msg":${this.json(outputs[0]!.msg, what) ?? 'null'}}]`;
    const parts = outputs.map((o) => `{"port":${Number(o.port)},"msg":${this.json(o.msg, what) ?? 'null'}}`);
    return `[${parts.join(',')}]`;
  }
}

const MB = 1024 * 1024;

function formatBytes(bytes: number): string {
  if (bytes >= MB) return `${(bytes / MB).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

/** A message as JSON text, or an UnstorableMessageError saying why it cannot be stored. */
function messageJson(value: unknown, what: string, limits: MessageLimits): string | null {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const message = (error as Error).message;
    if (error instanceof RangeError && /call stack/i.test(message)) {
      throw new UnstorableMessageError(what, 'depth', `it is nested more than ${limits.maxDepth} levels deep (FLOWCREW_MAX_DEPTH)`);
    }
    if (error instanceof RangeError) throw new UnstorableMessageError(what, 'size', `it is larger than the ${formatBytes(limits.maxBytes)} limit (FLOWCREW_MAX_MESSAGE_BYTES)`);
    throw new UnstorableMessageError(what, 'type', `it is not JSON-serialisable (${message})`);
  }
  if (text === undefined) throw new UnstorableMessageError(what, 'type', `a ${typeof value} is not JSON-serialisable`);
  // UTF-8 takes at least one byte per UTF-16 unit and at most three: count bytes only when it could matter.
  if (text.length > limits.maxBytes || (text.length * 3 > limits.maxBytes && Buffer.byteLength(text) > limits.maxBytes)) {
    throw new UnstorableMessageError(what, 'size', `it is ${formatBytes(Buffer.byteLength(text))} of JSON, over the ${formatBytes(limits.maxBytes)} limit (FLOWCREW_MAX_MESSAGE_BYTES)`);
  }
  // Nesting d levels takes 2d brackets, so short text is within the limit; counting brackets in the text is cheap and
  // settles most other messages; only one with more containers than the limit is walked.
  if (text.length > 2 * limits.maxDepth && hasMoreContainersThan(text, limits.maxDepth) && findTooDeep(value, limits.maxDepth)) {
    throw new UnstorableMessageError(what, 'depth', `it is nested more than ${limits.maxDepth} levels deep (FLOWCREW_MAX_DEPTH)`);
  }
  return text;
}
