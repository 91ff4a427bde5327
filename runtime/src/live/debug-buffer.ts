/**
 * The most recent debug messages per flow, kept in memory so an editor that lost its Socket.IO connection can fetch
 * what it missed (GET /api/v1/flows/:id/debug?after=<seq>). Like Node-RED's debug sidebar, nothing here survives a
 * restart: run history is the durable record. Messages are stored as previews, the shape the live event carries.
 */
import type { DebugEvent } from '../executor/events.ts';
import { preview } from './preview.ts';

/** Deepest nesting shown in a preview; deeper values show as "[…]". */
const PREVIEW_DEPTH = 32;
/** Longest `property` name kept with an entry. */
const PROPERTY_CHARS = 256;

interface Budget {
  left: number;
  cut: boolean;
}

/**
 * A copy of `value` cut down to about `budget` characters of JSON: strings shortened, arrays and objects stopped
 * once the budget is spent, buffers sliced. Previewing a 200 MB message then costs what previewing 2 KB does.
 */
function clip(value: unknown, budget: Budget, depth: number, ancestors: object[]): unknown {
  if (budget.left <= 0) {
    budget.cut = true;
    return null;
  }
  if (typeof value === 'string') {
    if (value.length <= budget.left) {
      budget.left -= value.length + 2;
      return value;
    }
    budget.cut = true;
    const kept = value.slice(0, budget.left);
    budget.left = 0;
    return kept;
  }
  if (typeof value === 'bigint') return clip(String(value), budget, depth, ancestors);
  if (value === null || typeof value !== 'object') {
    budget.left -= value === undefined || typeof value === 'function' || typeof value === 'symbol' ? 0 : String(value).length;
    return value;
  }
  if (depth >= PREVIEW_DEPTH) {
    budget.cut = true;
    return '[…]';
  }
  if (ancestors.includes(value)) return '[Circular]';
  if (ArrayBuffer.isView(value)) {
    const bytes = value as unknown as ArrayLike<number> & { subarray(start: number, end: number): ArrayLike<number> };
    const shown = Math.max(1, Math.floor(budget.left / 4));
    if (bytes.length > shown) budget.cut = true;
    const data = typeof bytes.subarray === 'function' ? Array.from(bytes.subarray(0, shown)) : [];
    budget.left -= data.length * 4;
    return Buffer.isBuffer(value) ? { type: 'Buffer', data } : data;
  }
  let source: object = value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    try {
      const converted: unknown = toJSON.call(value);
      if (converted === null || typeof converted !== 'object') return clip(converted, budget, depth, ancestors);
      source = converted;
    } catch {
      return '[unserialisable]';
    }
  }
  ancestors.push(value);
  try {
    if (Array.isArray(source)) {
      const out: unknown[] = [];
      for (let i = 0; i < source.length; i++) {
        if (budget.left <= 0) {
          budget.cut = true;
          break;
        }
        budget.left -= 1;
        out.push(clip(source[i], budget, depth + 1, ancestors));
      }
      return out;
    }
    const out: Record<string, unknown> = {};
    for (const key in source) {
      if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
      if (budget.left <= 0) {
        budget.cut = true;
        break;
      }
      budget.left -= key.length + 4; // quotes, colon, comma
      out[key] = clip((source as Record<string, unknown>)[key], budget, depth + 1, ancestors);
    }
    return out;
  } finally {
    ancestors.pop();
  }
}

/** The preview of a debug value, computed in time proportional to `max`, not to the size of the value. */
export function boundedPreview(value: unknown, max: number): { json: string; truncated: boolean } {
  const budget: Budget = { left: max + 1, cut: false };
  const result = preview(clip(value, budget, 0, []), max);
  return budget.cut ? { json: result.json, truncated: true } : result;
}

export interface DebugMessage {
  seq: number;
  runId: string;
  flowId: string;
  nodeId: string;
  property?: string;
  at: number;
  value: { json: string; truncated: boolean };
}

/**
 * Each entry is a preview of at most `previewChars` characters (FLOWCREW_PREVIEW_CHARS), at most `perFlow` entries
 * per flow: the buffer holds at most previewChars × perFlow characters per flow, whatever the flows debug.
 */
export class DebugBuffer {
  // Starts at the clock in microseconds, so numbers keep increasing across a restart: a client holding an older
  // process's seq still gets everything the new process has (well below 2^53 until the year 2255).
  private seq = Date.now() * 1000;
  private readonly byFlow = new Map<string, DebugMessage[]>();

  constructor(
    private readonly previewChars: number,
    private readonly perFlow = 500,
  ) {}

  /** Number the event (in place, so live listeners after this one send the same seq) and keep its preview. */
  add(event: DebugEvent): DebugMessage {
    event.seq = ++this.seq;
    const message: DebugMessage = {
      seq: event.seq,
      runId: event.runId,
      flowId: event.flowId,
      nodeId: event.nodeId,
      property: event.property === undefined ? undefined : event.property.slice(0, PROPERTY_CHARS),
      at: event.at,
      value: boundedPreview(event.value, this.previewChars),
    };
    let list = this.byFlow.get(event.flowId);
    if (!list) this.byFlow.set(event.flowId, (list = []));
    list.push(message);
    if (list.length > this.perFlow) list.splice(0, list.length - this.perFlow);
    return message;
  }

  /** The stored message for an event `add` numbered (the newest of its flow, normally). */
  messageFor(event: DebugEvent): DebugMessage | undefined {
    const list = this.byFlow.get(event.flowId) ?? [];
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.seq === event.seq) return list[i];
    return undefined;
  }

  /** Messages of a flow with seq greater than `after`, oldest first. */
  since(flowId: string, after = 0): DebugMessage[] {
    return (this.byFlow.get(flowId) ?? []).filter((m) => m.seq > after);
  }
}
