/** What the executor reports as it runs; the live layer (Socket.IO) and metrics listen. */
import type { NodeStatus, PortMessage } from '@flowcrew/sdk';
import type { RunRecord } from '../storage/types.ts';

export interface NodeStartedEvent {
  flowId: string;
  runId: string;
  nodeId: string;
  invocationId: string;
  attempt: number;
  input: unknown;
}

export interface NodeFinishedEvent {
  flowId: string;
  runId: string;
  nodeId: string;
  invocationId: string;
  attempt: number;
  status: 'succeeded' | 'failed' | 'cancelled';
  outputs: PortMessage[];
  error: string | null;
  durationMs: number;
}

export interface DebugEvent {
  /** Increases by one per debug message in this process, so a client can ask for what it missed. */
  seq?: number;
  flowId: string;
  runId: string;
  nodeId: string;
  value: unknown;
  property?: string;
  at: number;
}

export interface StatusEvent {
  flowId: string;
  nodeId: string;
  status: NodeStatus;
}

export interface ProgressEvent {
  flowId: string;
  runId: string;
  nodeId: string;
  invocationId: string;
  data: unknown;
}

export interface ExecutionEvents {
  progress(event: ProgressEvent): void;
  runStarted(run: RunRecord): void;
  runFinished(run: RunRecord): void;
  nodeStarted(event: NodeStartedEvent): void;
  nodeFinished(event: NodeFinishedEvent): void;
  debug(event: DebugEvent): void;
  status(event: StatusEvent): void;
  /** Whether anyone listens to `kind` (absent: assume so). Lets the hot path skip making an event nobody reads. */
  listens?(kind: EventKind): boolean;
}

export type EventKind = Exclude<keyof ExecutionEvents, 'listens'>;

/** Fans events out to several listeners (live layer, metrics, tests). */
export class EventFanout implements ExecutionEvents {
  private readonly listeners: Partial<ExecutionEvents>[] = [];
  /** Listeners per event kind, kept on add/remove (read per node hop). */
  private readonly counts = new Map<EventKind, number>();
  add(listener: Partial<ExecutionEvents>): () => void {
    this.listeners.push(listener);
    this.count(listener, +1);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at < 0) return;
      this.listeners.splice(at, 1);
      this.count(listener, -1);
    };
  }
  listens(kind: EventKind): boolean {
    return (this.counts.get(kind) ?? 0) > 0;
  }
  private count(listener: Partial<ExecutionEvents>, by: number): void {
    for (const kind of Object.keys(listener) as EventKind[]) if (typeof listener[kind] === 'function') this.counts.set(kind, (this.counts.get(kind) ?? 0) + by);
  }
  runStarted(run: RunRecord): void {
    for (const l of this.listeners) l.runStarted?.(run);
  }
  runFinished(run: RunRecord): void {
    for (const l of this.listeners) l.runFinished?.(run);
  }
  nodeStarted(event: NodeStartedEvent): void {
    for (const l of this.listeners) l.nodeStarted?.(event);
  }
  nodeFinished(event: NodeFinishedEvent): void {
    for (const l of this.listeners) l.nodeFinished?.(event);
  }
  debug(event: DebugEvent): void {
    for (const l of this.listeners) l.debug?.(event);
  }
  progress(event: ProgressEvent): void {
    for (const l of this.listeners) l.progress?.(event);
  }
  status(event: StatusEvent): void {
    for (const l of this.listeners) l.status?.(event);
  }
}
