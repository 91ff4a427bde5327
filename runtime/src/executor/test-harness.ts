/**
 * For the executor's own tests: an Executor on a real storage (SQLite in memory unless given), with small node types
 * whose behaviour each test controls (gates to hold a node, failures, replies), and waiters on run events.
 */
import type { EmitOptions, EmitResult, FlowMessage, NodeDefinition } from '@flowcrew/sdk';
import { createLogger } from '../logging/logger.ts';
import { NodeRegistry } from '../registry/registry.ts';
import { createSqliteStorage } from '../storage/sqlite.ts';
import type { RunRecord, Storage } from '../storage/types.ts';
import type { FlowDocument } from '../flow/types.ts';
import { EventFanout } from './events.ts';
import { Executor } from './executor.ts';

type Emit = (msg: FlowMessage, options?: EmitOptions) => Promise<EmitResult>;

/** A promise with its resolve exposed: a test opens a gate to let a held node finish. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

export interface Harness {
  executor: Executor;
  storage: Storage;
  events: EventFanout;
  /** Emit functions of started `test-trigger` nodes, by node id. */
  triggers: Map<string, Emit>;
  /** Each call of a `test-step` node, in order: `${nodeId}:${msg.payload}`. */
  calls: string[];
  /** Holds `test-hold` nodes until the test opens the gate stored under the run's payload. */
  holds: Map<string, ReturnType<typeof gate>>;
  /** Failures still to throw per node id (test-step nodes fail while their count is > 0). */
  failures: Map<string, number>;
  /** When true, test-hold nodes pass messages on at once (recorded in `calls` all the same). */
  holdsOpen: boolean;
  finished(runId: string): Promise<RunRecord>;
  deploy(nodes: FlowDocument['nodes'], settings?: FlowDocument['settings']): Promise<void>;
  close(): Promise<void>;
}

function testNodes(h: Pick<Harness, 'triggers' | 'calls' | 'holds' | 'failures' | 'holdsOpen'>): NodeDefinition[] {
  const base = { category: 'function' as const, inputs: 1 as const, outputs: 1, props: { type: 'object' }, help: 'test node' };
  return [
    {
      ...base,
      type: 'test-trigger',
      category: 'trigger',
      label: 'trigger',
      inputs: 0,
      create: (init) => ({
        start: (ctx) => void h.triggers.set(init.id, ctx.emit),
        stop: () => void h.triggers.delete(init.id),
        onInput: (msg) => msg,
      }),
    },
    {
      ...base,
      type: 'test-step',
      label: 'step',
      create: (init) => ({
        onInput: (msg) => {
          h.calls.push(`${init.id}:${String(msg.payload)}`);
          const left = h.failures.get(init.id) ?? 0;
          if (left > 0) {
            h.failures.set(init.id, left - 1);
            throw new Error(`${init.id} failed on purpose`);
          }
          return msg;
        },
      }),
    },
    {
      ...base,
      type: 'test-hold',
      label: 'hold',
      create: (init) => ({
        onInput: async (msg) => {
          h.calls.push(`${init.id}:${String(msg.payload)}`);
          if (h.holdsOpen) return msg;
          const held = h.holds.get(String(msg.payload)) ?? gate();
          h.holds.set(String(msg.payload), held);
          await held.promise;
          return msg;
        },
      }),
    },
    {
      // Reports an error to catch nodes (ctx.error), then changes the message and passes it on, as Node-RED's http request does.
      ...base,
      type: 'test-report',
      label: 'report',
      create: (init) => ({
        onInput: (msg, ctx) => {
          h.calls.push(`${init.id}:${String(msg.payload)}`);
          ctx.error?.(`${init.id} reported`);
          msg.payload = `${String(msg.payload)}+sent`;
          return msg;
        },
      }),
    },
    { ...base, type: 'test-reply', label: 'reply', outputs: 0, create: () => ({ onInput: (msg, ctx) => void ctx.reply({ status: 200, body: msg.payload }) }) },
    { ...base, type: 'catch', label: 'catch', inputs: 0, role: { kind: 'error-handler', scope: { whenUnset: 'all', onlyUnhandledProp: 'uncaught' } }, create: () => ({ onInput: (msg) => msg }) },
  ];
}

export async function createHarness(options: { storage?: Storage; retention?: 'all' | 'failed' | 'none'; holdsOpen?: boolean } = {}): Promise<Harness> {
  const storage = options.storage ?? createSqliteStorage({ filename: ':memory:' });
  if (!options.storage) await storage.migrate();
  const registry = new NodeRegistry();
  const events = new EventFanout();
  const partial = { triggers: new Map<string, Emit>(), calls: [] as string[], holds: new Map<string, ReturnType<typeof gate>>(), failures: new Map<string, number>(), holdsOpen: options.holdsOpen ?? false };
  registry.register(testNodes(partial), 'executor-test');
  const executor = new Executor({
    storage,
    registry,
    events,
    log: createLogger({ level: 'silent' }),
    retention: { mode: options.retention ?? 'all', maxAgeMs: 0 },
    credentials: async () => undefined,
    dataDir: ':memory:',
    registerWebhook: () => () => {},
  });
  const done = new Map<string, RunRecord>();
  const waiting = new Map<string, (run: RunRecord) => void>();
  events.add({
    runFinished: (run) => {
      done.set(run.id, { ...run });
      waiting.get(run.id)?.({ ...run });
      waiting.delete(run.id);
    },
  });
  let version = 0;
  return {
    ...partial,
    executor,
    storage,
    events,
    finished: (runId) => {
      const run = done.get(runId);
      return run ? Promise.resolve(run) : new Promise((resolve) => waiting.set(runId, resolve));
    },
    deploy: async (nodes, settings) => {
      const flow: FlowDocument = { id: 'f', name: 'f', version: ++version, nodes, ...(settings ? { settings } : {}) };
      await storage.saveFlow(flow);
      await executor.deploy(flow);
    },
    close: async () => {
      await executor.close();
      if (!options.storage) await storage.close();
    },
  };
}
