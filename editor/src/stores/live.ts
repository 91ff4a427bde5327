/**
 * Live run state from Socket.IO: per flow and node, the state of its latest invocation and how many messages it
 * handled since the editor started watching. Debug output and errors go to the debug store, run updates to the
 * runs store. Debug messages a flow printed before it was watched, or while the connection was down, are pushed by
 * the runtime when the editor subscribes (`debugAfter`: the last seq seen; each shown once). After a lost connection
 * node states and counts are caught up from the REST API, from the runs recorded meanwhile (each invocation once).
 */
import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { api, authHooks } from '../api/client';
import { LiveClient, type ConnectionState, type LiveClientOptions, type SubscribeTarget } from '../api/socket';
import type { NodeRunState } from '../lib/graph';
import type { PackProgress, DebugEvent, TestDebugEvent, LiveEvents, InvocationRecord, NodeFinishedEvent, NodeStartedEvent, NodeStatusEvent, RunFinishedEvent, RunStartedEvent } from '../api/types';
import { useCrewStreamStore } from './crewStream';
import { useDebugStore } from './debug';
import { useNodeDataStore } from './nodeData';
import { useNodeTypesStore } from './nodeTypes';
import { useNoticesStore } from './notices';
import { useRunsStore } from './runs';

/** The canvas draws these states (see lib/graph.ts). */
export type LiveNodeState = NodeRunState;

export interface NodeLive {
  state?: LiveNodeState;
  count: number;
  error?: string;
  statusText?: string;
  statusFill?: string;
  /** The run the node is running in, while it runs: when that run ends, the node is not left "running". */
  runId?: string;
}

const SEEN_LIMIT = 20_000;
/** How long a catch-up after reconnecting waits for the runtime's pushed debug messages before reporting. */
const DEBUG_CATCHUP_WAIT_MS = 5_000;

export const useLiveStore = defineStore('live', () => {
  const debug = useDebugStore();
  const runs = useRunsStore();
  const notices = useNoticesStore();

  const connection = ref<ConnectionState>('disconnected');
  const nodes = reactive<Record<string, Record<string, NodeLive>>>({});
  /** Bumped on every change, so the canvas knows to redraw. */
  const tick = ref(0);
  const watched = new Set<string>();
  // Invocation ids already counted, per flow (live and resync may both report one).
  const counted = new Map<string, Set<string>>();
  const failedRunsReported = new Set<string>();
  // Debug catch-ups pushed since the connection was last (re)established: flow → messages it added.
  let debugCaughtUp = new Map<string, number>();
  const debugCatchUpListeners = new Set<() => void>();
  let client: LiveClient | null = null;
  /** npm's output of pack operations (newest 500 lines), for the palette manager. */
  const packProgress = ref<PackProgress[]>([]);
  /** Bumped when the questions runs wait on may have changed (waits:changed, or a reconnect): the Waiting panel reloads. */
  const waitsChanged = ref(0);

  function nodeState(flowId: string, nodeId: string): NodeLive {
    const flow = (nodes[flowId] ??= {});
    return (flow[nodeId] ??= { count: 0 });
  }

  function countOnce(flowId: string, invocationId: string): boolean {
    let set = counted.get(flowId);
    if (!set) counted.set(flowId, (set = new Set()));
    if (set.has(invocationId)) return false;
    if (set.size > SEEN_LIMIT) set.clear();
    set.add(invocationId);
    return true;
  }

  function finish(flowId: string, runId: string, nodeId: string, invocationId: string, status: string, error: string | null, test?: boolean): void {
    const node = nodeState(flowId, nodeId);
    if (status === 'pending') {
      node.state = 'running'; // a retry is scheduled
      node.runId = runId;
    } else {
      node.runId = undefined;
      const fresh = countOnce(flowId, invocationId);
      if (fresh) node.count++;
      node.state = status === 'succeeded' ? 'succeeded' : status === 'cancelled' ? 'cancelled' : 'failed';
      node.error = error ?? undefined;
      if (status === 'failed' && fresh) {
        failedRunsReported.add(runId);
        debug.add({ kind: 'error', at: Date.now(), flowId, runId, nodeId, text: error ?? 'failed', ...(test ? { test } : {}) });
      }
    }
    tick.value++;
  }

  // ---- event handlers (also called directly by tests) ----

  function onRunStarted(e: RunStartedEvent): void {
    // The trigger's own step arrives as node events like any other node's (node:finished when a webhook, cron or
    // inject timer fires; node:started/finished when a manual run delivers the input to it), so nothing to draw here.
    runs.upsert({ id: e.runId, flowId: e.flowId, triggerNodeId: e.triggerNodeId, status: e.status, createdAt: e.createdAt, startedAt: e.startedAt, ...(e.test ? { test: true } : {}) });
  }

  /** The runtime dropped a live view because the user's access changed: say so, and do not ask for it again. */
  function onSubscriptionDropped({ room, reason }: LiveEvents['subscription:dropped']): void {
    if (room.startsWith('flow:')) watched.delete(room.slice('flow:'.length));
    notices.error(`Live updates of ${room.replace(':', ' ')} stopped`, `Your access changed (${reason}); reload to see what you may still open.`, `dropped:${room}`);
  }

  function onRunFinished(e: RunFinishedEvent): void {
    runs.upsert({ id: e.runId, flowId: e.flowId, status: e.status, error: e.error, startedAt: e.startedAt, finishedAt: e.finishedAt });
    useNodeDataStore().runFinished(e.flowId);
    useCrewStreamStore().runFinished(e.runId);
    // A cancelled (or otherwise ended) run has no node running any more, even one whose own end was never reported
    // (a delay still waiting when the run was cancelled).
    let changed = false;
    for (const node of Object.values(nodes[e.flowId] ?? {})) {
      if (node.state === 'running' && node.runId === e.runId) {
        node.state = e.status === 'cancelled' ? 'cancelled' : e.status === 'failed' ? 'failed' : 'succeeded';
        node.runId = undefined;
        changed = true;
      }
    }
    if (changed) tick.value++;
    if (e.status === 'failed' && !failedRunsReported.has(e.runId)) {
      failedRunsReported.add(e.runId);
      debug.add({ kind: 'error', at: e.finishedAt ?? Date.now(), flowId: e.flowId, runId: e.runId, text: `Run failed: ${e.error ?? 'unknown error'}`, ...(e.test ? { test: true } : {}) });
    }
  }

  function onNodeStarted(e: NodeStartedEvent): void {
    if (counted.get(e.flowId)?.has(e.invocationId)) return;
    const node = nodeState(e.flowId, e.nodeId);
    node.state = 'running';
    node.runId = e.runId;
    tick.value++;
  }

  function onNodeFinished(e: NodeFinishedEvent): void {
    finish(e.flowId, e.runId, e.nodeId, e.invocationId, e.status, e.error, e.test);
  }

  function onDebug(e: DebugEvent | TestDebugEvent): void {
    // A test run's message has no seq: shown as it comes, marked, and never moves the catch-up cursor.
    if ('test' in e) debug.add({ kind: 'debug', at: e.at, flowId: e.flowId, runId: e.runId, nodeId: e.nodeId, property: e.property, text: e.value.json, truncated: e.value.truncated, test: true });
    else debug.addMessages([e], { live: true });
  }

  /**
   * The runtime's answer to a subscription with `debugAfter`: the flow's buffered messages above the last seq seen.
   * A message that also arrived live shows once (debug store).
   */
  function onDebugCatchUp(e: LiveEvents['debug:catchup']): void {
    const added = debug.addMessages(e.messages ?? []);
    if (e.error) notices.error(`Could not fetch the recent debug messages of flow "${e.flowId}"`, e.error, `debug-catchup:${e.flowId}`);
    debugCaughtUp.set(e.flowId, (debugCaughtUp.get(e.flowId) ?? 0) + added);
    for (const listener of debugCatchUpListeners) listener();
  }

  /** How many debug messages the catch-ups of these flows added, once each has come (or after a while). */
  function debugCatchUpsOf(flowIds: string[], waitMs = DEBUG_CATCHUP_WAIT_MS): Promise<number> {
    const total = () => flowIds.reduce((sum, id) => sum + (debugCaughtUp.get(id) ?? 0), 0);
    return new Promise((resolve) => {
      const check = () => {
        if (!flowIds.every((id) => debugCaughtUp.has(id))) return;
        done();
      };
      const done = () => {
        clearTimeout(timer);
        debugCatchUpListeners.delete(check);
        resolve(total());
      };
      const timer = setTimeout(done, waitMs);
      debugCatchUpListeners.add(check);
      check();
    });
  }

  function onNodeStatus(e: NodeStatusEvent): void {
    const node = nodeState(e.flowId, e.nodeId);
    node.statusText = e.status?.text || undefined;
    node.statusFill = e.status?.fill;
    tick.value++;
  }

  /** Whether the live connection was ever up (its first `connected` reloads the Waiting panel's questions). */
  let everConnected = false;

  function onConnectionState(state: ConnectionState): void {
    // A new connection subscribes again, and its catch-ups are counted afresh.
    if (connection.value === 'connected' && state !== 'connected') debugCaughtUp = new Map();
    // A question asked after the panel's first load but before this socket existed reached no socket of this editor:
    // load the list once more when the first connection is up (later ones resync through onResync).
    if (state === 'connected' && !everConnected) {
      everConnected = true;
      waitsChanged.value++;
    }
    connection.value = state;
  }

  function connect(options: LiveClientOptions = {}): void {
    if (client) return;
    // The handshake authenticates like the REST calls: a fresh Keycloak token when there is one, else the cookie.
    const bearerAuth = async (): Promise<Record<string, string>> => {
      const token = await authHooks.bearer?.();
      return token ? { token } : {};
    };
    // Each flow subscription asks for the debug messages after the last one seen (all kept ones the first time).
    client = new LiveClient({ auth: bearerAuth, debugAfter: (flowId) => debug.lastSeq(flowId) ?? 0, ...options });
    connection.value = client.connectionState;
    client.onAuthError(() => authHooks.onUnauthorized?.());
    client.onState(onConnectionState);
    client.onResync((since, subscribed) => {
      waitsChanged.value++;
      void resync(since, subscribed.flatMap((t: SubscribeTarget) => ('flowId' in t ? [t.flowId] : [])));
    });
    client.on('waits:changed', () => void waitsChanged.value++);
    client.on('run:started', onRunStarted);
    client.on('run:finished', onRunFinished);
    client.on('node:started', onNodeStarted);
    client.on('node:finished', onNodeFinished);
    client.on('debug', onDebug);
    client.on('debug:catchup', onDebugCatchUp);
    client.on('node:status', onNodeStatus);
    client.on('node-types:changed', () => void useNodeTypesStore().load());
    client.on('subscription:dropped', onSubscriptionDropped);
    client.on('node:progress', (e) => useCrewStreamStore().onProgress(e));
    client.on('pack:progress', (line) => {
      packProgress.value.push(line);
      if (packProgress.value.length > 500) packProgress.value.splice(0, packProgress.value.length - 500);
    });
    for (const flowId of watched) void client.subscribe({ flowId });
  }

  function watchFlow(flowId: string): void {
    if (watched.has(flowId)) return;
    watched.add(flowId);
    // The runtime pushes its recent debug messages with the subscription (all buffered ones the first time, what
    // came meanwhile when opened again).
    void client?.subscribe({ flowId });
  }

  function unwatchFlow(flowId: string): void {
    if (!watched.delete(flowId)) return;
    client?.unsubscribe({ flowId });
  }

  /** Clear the counters of a flow (the toolbar's reset, and after a deploy). */
  function resetFlow(flowId: string): void {
    const flow = nodes[flowId];
    if (flow) for (const node of Object.values(flow)) Object.assign(node, { state: undefined, count: 0, error: undefined });
    tick.value++;
  }

  /** Fold one stored invocation into the live state, as if its events had arrived. */
  function foldInvocation(flowId: string, invocation: InvocationRecord): void {
    if (invocation.status === 'pending') {
      if (invocation.startedAt && !counted.get(flowId)?.has(invocation.id)) nodeState(flowId, invocation.nodeId).state = 'running';
      return;
    }
    finish(flowId, invocation.runId, invocation.nodeId, invocation.id, invocation.status, invocation.error);
  }

  /**
   * Events sent while the connection was down are lost: fetch the runs recorded since, and count the debug messages
   * the runtime pushed with the new subscriptions (`flowIds`: the flows subscribed again).
   */
  async function resync(since: number, flowIds: string[] = [...watched]): Promise<void> {
    let caughtUp = 0;
    const debugMessages = debugCatchUpsOf(flowIds);
    for (const flowId of watched) {
      try {
        const recent = await api.listRuns({ flowId, limit: 50 });
        const missed = recent.filter((r) => r.createdAt >= since - 1000 || (r.finishedAt ?? Infinity) >= since - 1000 || ['running', 'queued', 'waiting'].includes(r.status));
        for (const run of missed.slice(0, 25).reverse()) {
          // A run pruned meanwhile (retention) is simply skipped.
          const detail = await api.getRun(run.id).catch(() => undefined);
          if (!detail) continue;
          for (const invocation of detail.invocations) foldInvocation(flowId, invocation);
          runs.upsert(detail);
          if (detail.status === 'failed' && !failedRunsReported.has(detail.id)) {
            failedRunsReported.add(detail.id);
            debug.add({ kind: 'error', at: detail.finishedAt ?? Date.now(), flowId, runId: detail.id, text: `Run failed: ${detail.error ?? 'unknown error'}` });
          }
          caughtUp++;
        }
      } catch (e) {
        notices.error('Could not catch up after reconnecting', (e as Error).message);
      }
    }
    tick.value++;
    const messages = await debugMessages;
    const missed = [caughtUp && `${caughtUp} run${caughtUp === 1 ? '' : 's'}`, messages && `${messages} debug message${messages === 1 ? '' : 's'}`].filter(Boolean);
    notices.success('Live connection restored', missed.length ? `Caught up on ${missed.join(' and ')} from while it was down.` : undefined);
  }

  function disconnect(): void {
    client?.close();
    client = null;
  }

  /** After signing in again: the runtime refused the old handshake, so connect now (subscriptions are restored). */
  function reconnect(): void {
    client?.reconnect();
  }

  /** The live connection's id, for a test run whose events should come here while it runs. */
  function socketId(): string | undefined {
    return client?.id;
  }

  return {
    packProgress,
    waitsChanged,
    connection,
    nodes,
    tick,
    connect,
    disconnect,
    reconnect,
    socketId,
    watchFlow,
    unwatchFlow,
    resetFlow,
    resync,
    foldInvocation,
    onRunStarted,
    onRunFinished,
    onNodeStarted,
    onNodeFinished,
    onDebug,
    onDebugCatchUp,
    onNodeStatus,
    onConnectionState,
    onSubscriptionDropped,
  };
});
