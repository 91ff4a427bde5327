/**
 * Pinned node outputs (n8n's pinned data): per flow, the nodes whose output is fixed for manual runs. A manual run
 * of a flow with pins goes to the runtime's pinned run (the flow as edited with the pins applied, in an isolated
 * deployment), which the runtime keeps in the run history as a test run; its invocations feed each node's "Last run"
 * view at once, as a real run's would.
 */
import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { api } from '../api/client';
import type { InvocationRecord, PinRecord, PinnedOutput, PinnedRunAnswer } from '../api/types';
import { useFlowsStore } from './flows';
import { useLiveStore } from './live';
import { plain } from './flows/storage';
import { useNodeDataStore } from './nodeData';
import { useRunsStore } from './runs';

export const usePinsStore = defineStore('pins', () => {
  /** Pins by flow id, then node id. */
  const byFlow = reactive<Record<string, Record<string, PinRecord>>>({});
  /** The last pinned run per flow (shown in the Run dialog and the node views). */
  const lastRun = ref<Record<string, PinnedRunAnswer>>({});

  async function load(flowId: string): Promise<void> {
    const list = await api.listPins(flowId);
    byFlow[flowId] = Object.fromEntries(list.map((p) => [p.nodeId, p]));
  }

  function of(flowId: string | null | undefined): Record<string, PinRecord> {
    return (flowId && byFlow[flowId]) || {};
  }

  function isPinned(flowId: string | null | undefined, nodeId: string): boolean {
    return !!of(flowId)[nodeId];
  }

  function hasPins(flowId: string | null | undefined): boolean {
    return Object.keys(of(flowId)).length > 0;
  }

  async function pin(flowId: string, nodeId: string, output: PinnedOutput): Promise<void> {
    const saved = await api.setPin(flowId, nodeId, output);
    byFlow[flowId] = { ...of(flowId), [nodeId]: saved };
  }

  async function unpin(flowId: string, nodeId: string): Promise<void> {
    await api.deletePin(flowId, nodeId);
    const { [nodeId]: _gone, ...rest } = of(flowId);
    byFlow[flowId] = rest;
  }

  /**
   * Run the flow with its pins, as the user sees it: with unsaved changes, the working copy (the runtime checks it as
   * a save would and stores no version), else the saved flow. The answer's invocations become each node's last data;
   * the run joins the loaded history (no live event comes from the isolated deployment).
   */
  async function run(flowId: string, input: Record<string, unknown>, nodeId?: string): Promise<PinnedRunAnswer> {
    const open = useFlowsStore().open[flowId];
    const draft = open?.dirty && open.savedVersion !== null ? plain({ ...open.doc, format: 'flowcrew/flow@1' as const, version: open.savedVersion }) : undefined;
    const answer = await api.runPinned(flowId, input, nodeId, draft, useLiveStore().socketId());
    lastRun.value = { ...lastRun.value, [flowId]: answer };
    useNodeDataStore().adoptRun(flowId, answer.run.id, answer.invocations);
    if (answer.inHistory) useRunsStore().upsert(answer.run);
    return answer;
  }

  return { byFlow, lastRun, load, of, isPinned, hasPins, pin, unpin, run };
});

/** A pin made from a node's recorded outputs (what it sent in its last run). */
export function pinFromInvocation(invocation: InvocationRecord): PinnedOutput {
  return { outputs: (invocation.outputs ?? []).map((o) => ({ port: o.port, msg: o.msg as Record<string, unknown> })) };
}
