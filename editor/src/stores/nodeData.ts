/**
 * A node's last real data from the run history (n8n's habit): the input and outputs of its newest invocation in
 * the flow's recent runs. It feeds the expression editor (completion and preview) and the node's "Last run" view,
 * and "run from here" starts a run at the node with that input.
 */
import { defineStore } from 'pinia';
import { reactive } from 'vue';
import { api } from '../api/client';
import type { InvocationRecord, RunDetail } from '../api/types';

/** Runs looked through, newest first: a node that did not run in the last few runs (a branch not taken) is found further back. */
const RUNS_SEARCHED = 15;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);
const RELOAD_DELAY_MS = 300;

export interface NodeData {
  runId: string;
  /** When the invocation started (else was created). */
  at: number;
  invocation: InvocationRecord;
  /** From a test run (a pinned manual run: isolated, then stored in the history marked `test`). */
  pinnedRun?: boolean;
}

export type NodeDataState = { loading: boolean; data: NodeData | null; error: string | null };

export const useNodeDataStore = defineStore('nodeData', () => {
  const byNode = reactive<Record<string, NodeDataState>>({});
  // Finished runs do not change: their details are fetched once.
  const finishedRuns = new Map<string, RunDetail>();

  async function runDetail(id: string): Promise<RunDetail> {
    const known = finishedRuns.get(id);
    if (known) return known;
    const detail = await api.getRun(id);
    if (FINISHED.has(detail.status)) finishedRuns.set(id, detail);
    if (finishedRuns.size > 200) finishedRuns.delete(finishedRuns.keys().next().value!);
    return detail;
  }

  async function find(flowId: string, nodeId: string): Promise<NodeData | null> {
    const runs = await api.listRuns({ flowId, limit: RUNS_SEARCHED });
    for (const run of runs) {
      const detail = await runDetail(run.id);
      const mine = detail.invocations.filter((i) => i.nodeId === nodeId && i.status !== 'pending').sort((a, b) => b.seq - a.seq);
      if (mine[0]) return { runId: run.id, at: mine[0].startedAt ?? mine[0].createdAt, invocation: mine[0], ...(run.test ? { pinnedRun: true } : {}) };
    }
    return null;
  }

  /** Loads (or reloads) a node's last data; concurrent calls for one node share the state. */
  async function load(flowId: string, nodeId: string): Promise<void> {
    const key = `${flowId}/${nodeId}`;
    byNode[key] ??= { loading: false, data: null, error: null };
    // Read back through the reactive map: changes to the plain object just stored would not be seen.
    const state = byNode[key]!;
    state.loading = true;
    try {
      const found = await find(flowId, nodeId);
      // A pinned run the history did not keep (retention): its data stays until a newer real run of the node.
      const kept = state.data?.pinnedRun && (!found || found.at < state.data.at) ? state.data : null;
      state.data = kept ?? found;
      state.error = null;
    } catch (e) {
      state.error = (e as Error).message;
    } finally {
      state.loading = false;
    }
  }

  function get(flowId: string, nodeId: string): NodeDataState | undefined {
    return byNode[`${flowId}/${nodeId}`];
  }

  /**
   * A run of the flow finished: what was loaded for its nodes may be stale, so reload it, at most once a second per
   * flow (a busy flow finishes many runs a second).
   */
  const reloads = new Map<string, ReturnType<typeof setTimeout>>();
  function runFinished(flowId: string): void {
    if (reloads.has(flowId)) return;
    reloads.set(
      flowId,
      setTimeout(() => {
        reloads.delete(flowId);
        for (const key of Object.keys(byNode)) if (key.startsWith(`${flowId}/`)) void load(flowId, key.slice(flowId.length + 1));
      }, RELOAD_DELAY_MS),
    );
  }

  /**
   * A pinned run (isolated; stored as a test run when it ended): its invocations become the nodes' last data at once,
   * without reading the history again; the next real run of the flow replaces them as usual.
   */
  function adoptRun(flowId: string, runId: string, invocations: readonly InvocationRecord[]): void {
    const newest = new Map<string, InvocationRecord>();
    for (const i of invocations) if (i.status !== 'pending' && (newest.get(i.nodeId)?.seq ?? -1) < i.seq) newest.set(i.nodeId, i);
    for (const [nodeId, invocation] of newest) {
      byNode[`${flowId}/${nodeId}`] = { loading: false, error: null, data: { runId, at: invocation.startedAt ?? invocation.createdAt, invocation, pinnedRun: true } };
    }
  }

  return { byNode, load, get, runFinished, adoptRun };
});
