/**
 * The most recent debug messages per flow, kept in memory so an editor that lost its Socket.IO connection can fetch
 * what it missed (GET /api/v1/flows/:id/debug?after=<seq>). Like Node-RED's debug sidebar, nothing here survives a
 * restart: run history is the durable record. Messages are stored as previews, the shape the live event carries.
 */
import type { DebugEvent } from '../executor/events.ts';
import { preview } from './preview.ts';

export interface DebugMessage {
  seq: number;
  runId: string;
  flowId: string;
  nodeId: string;
  property?: string;
  at: number;
  value: { json: string; truncated: boolean };
}

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
      property: event.property,
      at: event.at,
      value: preview(event.value, this.previewChars),
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
