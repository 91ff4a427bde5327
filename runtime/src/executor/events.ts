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
}

/** Fans events out to several listeners (live layer, metrics, tests). */
export class EventFanout implements ExecutionEvents {
  private readonly listeners: Partial<ExecutionEvents>[] = [];
  add(listener: Partial<ExecutionEvents>): () => void {
    this.listeners.push(listener);
    return () => this.listeners.splice(this.listeners.indexOf(listener), 1);
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
