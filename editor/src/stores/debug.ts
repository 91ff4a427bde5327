/** The debug sidebar's messages: what debug nodes printed, and node and run errors, newest last, capped. */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';

export interface DebugEntry {
  id: number;
  kind: 'debug' | 'error';
  at: number;
  flowId: string;
  runId: string;
  nodeId?: string;
  property?: string;
  /** JSON text of the value (a preview, maybe truncated) or the error message. */
  text: string;
  truncated?: boolean;
}

const LIMIT = 1000;

export const useDebugStore = defineStore('debug', () => {
  const entries = shallowRef<DebugEntry[]>([]);
  /** '' = every node. */
  const nodeFilter = ref('');
  const onlyErrors = ref(false);
  /** Show messages of the active flow only. */
  const currentFlowOnly = ref(true);
  let next = 1;

  function add(entry: Omit<DebugEntry, 'id'>): void {
    const list = entries.value.length >= LIMIT ? entries.value.slice(entries.value.length - LIMIT + 1) : entries.value.slice();
    list.push({ ...entry, id: next++ });
    entries.value = list;
  }

  function clear(): void {
    entries.value = [];
  }

  function visible(flowId: string | null): DebugEntry[] {
    return entries.value.filter(
      (e) => (!currentFlowOnly.value || e.flowId === flowId) && (!nodeFilter.value || e.nodeId === nodeFilter.value) && (!onlyErrors.value || e.kind === 'error'),
    );
  }

  /** Nodes that have entries, for the filter menu. */
  const nodesWithEntries = computed(() => [...new Set(entries.value.map((e) => e.nodeId).filter((id): id is string => !!id))]);

  return { entries, nodeFilter, onlyErrors, currentFlowOnly, add, clear, visible, nodesWithEntries };
});
