/**
 * Pinned outputs as an actor may read, set and use them. A pinned run is the editor's manual run with pins applied:
 * the flow's stored revision (or the editor's unsaved working copy, checked as a save would check it), transformed by
 * THE pins transform (flowtest/pins.ts withPinnedOutputs), runs in an isolated sandbox deployment
 * (flowtest/sandbox.ts), so a pinned node never calls its system, and the real flow, its triggers and context are
 * untouched. When it ends it is stored in the run history as a test run (pins/history.ts). The answer carries the run
 * and every invocation.
 */
import type { FlowMessage } from '@flowcrew/sdk';
import { ProblemError, notFound } from '../errors.ts';
import { PinError, withPinnedOutputs, type PinnedOutput } from '../flowtest/pins.ts';
import { SandboxDeployError, TestSandbox, type SandboxRun } from '../flowtest/sandbox.ts';
import { testDependencies } from '../flowtest/files.ts';
import { can } from '../identity/actor.ts';
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import { authorize } from '../services/access.ts';
import type { StoredFlow } from '../storage/types.ts';
import type { CheckedDraft } from '../services/flows.ts';
import { PinStore, type PinRecord } from './store.ts';
import { recordTestRuns, type TestRunTarget } from './history.ts';
import type { TestRunLive } from './live.ts';

/** A manual run ends within this, or is cancelled (the answer says so). */
const PINNED_RUN_TIMEOUT_MS = 60_000;
/** Pins are test data typed or copied in the editor, not bulk storage. */
const MAX_PIN_BYTES = 1_000_000;

export interface PinnedRunAnswer extends SandboxRun {
  /** Nodes whose pinned output was used. */
  pinned: string[];
  /** Pins of nodes the flow run no longer has (not applied). */
  ignored: string[];
  /** 'draft': the editor's unsaved working copy ran; 'saved': the stored revision. */
  ran: 'draft' | 'saved';
  /** The run is in the run history (marked test); false when retention keeps no such run, or it could not be stored (`historyError`). */
  inHistory: boolean;
  historyError?: string;
}

export class PinService {
  readonly store: PinStore;
  private readonly history: TestRunTarget;
  /** Set when the runtime serves Socket.IO (live/live.ts): a run's events go to the editor that started it. */
  private live: TestRunLive | null = null;

  constructor(private readonly runtime: Runtime) {
    const { driver, limits } = runtime.storage as Partial<Pick<TestRunTarget, 'driver' | 'limits'>>;
    if (!driver || !limits) throw new Error('pinned outputs need the SQL storage (SQLite or PostgreSQL)');
    this.store = new PinStore(driver);
    this.history = { driver, limits, retention: runtime.executor.options.retention };
  }

  private async flow(actor: Actor, flowId: string, permission: 'flow:read' | 'flow:write' | 'run:start'): Promise<StoredFlow> {
    const stored = await this.runtime.storage.getFlow(flowId);
    if (!stored) throw notFound(`flow "${flowId}"`);
    authorize(actor, permission, stored.projectId, 'flow:read', `flow "${flowId}"`);
    return stored;
  }

  useLive(live: TestRunLive | null): void {
    this.live = live;
  }

  async list(actor: Actor, flowId: string): Promise<PinRecord[]> {
    await this.flow(actor, flowId, 'flow:read');
    return this.store.list(flowId);
  }

  /** Pin a node's output. The node may be new in the editor's unsaved copy; a pin is applied only once it is stored. */
  async set(actor: Actor, flowId: string, nodeId: string, pin: PinnedOutput): Promise<PinRecord> {
    const stored = await this.flow(actor, flowId, 'flow:write');
    const size = JSON.stringify(pin ?? null).length;
    if (size > MAX_PIN_BYTES) throw new ProblemError(413, 'Pin too large', `the pinned output of node "${nodeId}" is ${size} bytes; at most ${MAX_PIN_BYTES} are kept`);
    try {
      // The one transform checks the pin (against a one-node flow, so an unsaved node can be pinned too).
      withPinnedOutputs({ ...stored.flow, nodes: [{ id: nodeId, type: 'pinned-check' }] }, { [nodeId]: pin });
    } catch (error) {
      if (error instanceof PinError) throw new ProblemError(400, 'Invalid pin', error.message, [{ pointer: '/', message: error.message, nodeId }]);
      throw error;
    }
    return this.store.set(flowId, nodeId, pin, actor.name);
  }

  async remove(actor: Actor, flowId: string, nodeId: string): Promise<void> {
    await this.flow(actor, flowId, 'flow:write');
    if (!(await this.store.remove(flowId, nodeId))) throw notFound(`pin of node "${nodeId}" in flow "${flowId}"`);
  }

  /**
   * A manual run of the flow with its pins: at `nodeId` with `input` ("run from here"), else at the flow's manual
   * entry (an inject sends its own payload unless `input` has fields). With `draft` (FlowService.checkDraft) the
   * editor's unsaved working copy runs instead of the stored revision: what the user sees is what runs. With
   * `liveSocket` (the editor's Socket.IO id) its events reach that editor while it runs (pins/live.ts).
   */
  async run(actor: Actor, flowId: string, body: { input?: FlowMessage; nodeId?: string; liveSocket?: string }, draft?: CheckedDraft): Promise<PinnedRunAnswer> {
    const saved = await this.flow(actor, flowId, 'run:start');
    const stored: StoredFlow = draft ? { ...saved, flow: draft.flow } : saved;
    const input = body.input ?? {};
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw new ProblemError(400, 'Invalid input', 'input must be a message object, e.g. {"payload": ...}', [{ pointer: '/input', message: 'must be an object' }]);
    }
    const all = await this.store.pins(flowId);
    const present = new Set(stored.flow.nodes.map((n) => n.id));
    const pins = Object.fromEntries(Object.entries(all).filter(([id]) => present.has(id)));
    const ignored = Object.keys(all).filter((id) => !present.has(id));
    const flow = withPinnedOutputs(stored.flow, pins);
    const entry = body.nodeId ?? this.manualEntry(stored);
    if (!present.has(entry)) throw new ProblemError(422, 'Cannot start run', `flow "${flowId}" has no node "${entry}"`, [{ pointer: '/nodeId', message: `no such node in the ${draft ? 'working copy' : 'saved flow'}` }]);
    const registry = this.runtime.registry;
    let sandbox: TestSandbox;
    try {
      sandbox = await TestSandbox.open(
        { registry, credentials: (id) => this.runtime.vault.resolve(id), outbound: this.runtime.executor.options.outbound, log: this.runtime.log },
        // The flows it calls and the library sub-flow versions it uses (those the actor may read) run beside it.
        [flow, ...(await testDependencies(stored.flow, async (id) => { const f = await this.runtime.storage.getFlow(id); return f && can(actor, 'flow:read', f.projectId) ? f.flow : undefined; }, this.runtime.subflows))],
      );
    } catch (error) {
      if (error instanceof SandboxDeployError) throw new ProblemError(422, 'Cannot run the flow', error.message, error.issues);
      throw error;
    }
    let stopLive: (() => void) | null = null;
    try {
      if (body.liveSocket && this.live) {
        // The live view is a convenience: the run goes ahead without it.
        stopLive = await this.live.open(actor, body.liveSocket, sandbox.events).catch((error: unknown) => {
          this.runtime.log.warn(`test run of flow "${flowId}": no live view for socket "${body.liveSocket}": ${(error as Error).message}`);
          return null;
        });
      }
      const result = await sandbox.run(flowId, entry, input, { timeoutMs: PINNED_RUN_TIMEOUT_MS, manual: true });
      const kept = await this.keep(saved, sandbox);
      const run = kept.ids.includes(result.run.id) ? { ...result.run, test: true } : result.run;
      return { ...result, run, pinned: Object.keys(pins), ignored, ran: draft ? 'draft' : 'saved', inHistory: kept.ids.includes(result.run.id), ...(kept.error ? { historyError: kept.error } : {}) };
    } finally {
      stopLive?.();
      await sandbox.close();
    }
  }

  /** Store the sandbox's runs in the history as test runs; a failure (e.g. a message over the size limit) is reported, not thrown: the run itself happened. */
  private async keep(saved: StoredFlow, sandbox: TestSandbox): Promise<{ ids: string[]; error?: string }> {
    try {
      const runs = await sandbox.history();
      const versions = new Map<string, number>([[saved.flow.id, saved.flow.version]]);
      for (const { run } of runs) {
        if (!versions.has(run.flowId)) {
          const other = await this.runtime.storage.getFlow(run.flowId);
          if (other) versions.set(run.flowId, other.flow.version);
        }
      }
      const ids = await recordTestRuns(this.history, runs, { projectId: saved.projectId, versionOf: (id) => versions.get(id), flowRetention: saved.flow.settings?.retention });
      return { ids };
    } catch (error) {
      this.runtime.log.warn(`test run of flow "${saved.flow.id}" could not be stored in the run history: ${(error as Error).message}`);
      return { ids: [], error: (error as Error).message };
    }
  }

  /** The flow's manual trigger, by role (an inject or any pack's node declaring 'manual-entry'), never by type name. */
  private manualEntry(stored: StoredFlow): string {
    const node = stored.flow.nodes.find((n) => !n.disabled && this.runtime.registry.get(n.type)?.role?.kind === 'manual-entry');
    if (!node) throw new ProblemError(422, 'Cannot start run', `flow "${stored.flow.id}" has no manual trigger (inject) node to start a run at; pass nodeId`, [{ pointer: '/nodeId', message: 'required: the flow has no manual trigger' }]);
    return node.id;
  }
}
