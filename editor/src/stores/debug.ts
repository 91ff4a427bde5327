/**
 * The debug sidebar's messages: what debug nodes printed, and node and run errors, newest last, capped.
 *
 * Debug messages are numbered by the runtime (`seq`). The store remembers the highest seq it has seen per flow, so
 * after a lost connection (or when a flow is opened again) the subscription asks the runtime for only what it missed
 * (`lastSeq`, sent as `debugAfter`; stores/live.ts). A message may arrive both live and in a catch-up: it shows once,
 * and debug messages stay in seq order.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DebugEvent } from '../api/types';

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
  /** The runtime's number of a debug message (none for errors, nor for messages of a runtime since restarted). */
  seq?: number;
  /** From a test run this editor started (pins/live.ts), not the deployed flow. */
  test?: boolean;
}

const LIMIT = 1000;
/** Seqs remembered per flow for deduplication; a catch-up only overlaps the few that arrived live meanwhile. */
const SEEN_LIMIT = 2000;

export const useDebugStore = defineStore('debug', () => {
  const entries = shallowRef<DebugEntry[]>([]);
  /** '' = every node. */
  const nodeFilter = ref('');
  const onlyErrors = ref(false);
  /** Show messages of the active flow only. */
  const currentFlowOnly = ref(true);
  let next = 1;

  /** Highest seq seen per flow, live or caught up (kept by `clear`: cleared messages are not fetched again). */
  const cursors = new Map<string, number>();
  /** Seqs received per flow, to drop a message that arrives twice. */
  const seen = new Map<string, Set<number>>();
  /** Highest seq received live: live messages come in order, so a lower one means a runtime restarted with its clock behind. */
  let lastLiveSeq = 0;

  function trimmed(list: DebugEntry[]): DebugEntry[] {
    return list.length > LIMIT ? list.slice(list.length - LIMIT) : list;
  }

  function add(entry: Omit<DebugEntry, 'id'>): void {
    const list = entries.value.slice();
    list.push({ ...entry, id: next++ });
    entries.value = trimmed(list);
  }

  /**
   * Numbers start from the runtime's clock, so they keep rising across restarts; if one restarts with its clock behind,
   * what was seen before says nothing about the new numbers.
   */
  function forgetSeqs(): void {
    cursors.clear();
    seen.clear();
    lastLiveSeq = 0;
    entries.value = entries.value.map((e) => (e.seq === undefined ? e : { ...e, seq: undefined }));
  }

  /**
   * Add numbered debug messages (live events, or a catch-up's answer, oldest first). Ones already received are
   * skipped; one older than messages already shown is inserted before them. Returns how many were new.
   */
  function addMessages(messages: DebugEvent[], options: { live?: boolean } = {}): number {
    let list: DebugEntry[] | null = null;
    let added = 0;
    for (const m of messages) {
      if (!m || typeof m.seq !== 'number') continue;
      if (options.live) {
        if (m.seq < lastLiveSeq) {
          if (list) entries.value = list;
          forgetSeqs();
          list = null;
        }
        lastLiveSeq = Math.max(lastLiveSeq, m.seq);
      }
      let set = seen.get(m.flowId);
      if (set?.has(m.seq)) continue;
      if (!set) seen.set(m.flowId, (set = new Set()));
      set.add(m.seq);
      if (set.size > SEEN_LIMIT) set.delete(set.values().next().value!);
      cursors.set(m.flowId, Math.max(cursors.get(m.flowId) ?? 0, m.seq));

      list ??= entries.value.slice();
      // Before the earliest of the trailing messages numbered higher (errors keep their place).
      let at = list.length;
      for (let i = list.length - 1; i >= 0; i--) {
        const seq = list[i]!.seq;
        if (seq === undefined) continue;
        if (seq > m.seq) at = i;
        else break;
      }
      const entry: DebugEntry = { id: next++, kind: 'debug', at: m.at, flowId: m.flowId, runId: m.runId, nodeId: m.nodeId, text: m.value.json, truncated: m.value.truncated, seq: m.seq };
      if (m.property !== undefined) entry.property = m.property;
      list.splice(at, 0, entry);
      added++;
    }
    if (list) entries.value = trimmed(list);
    return added;
  }

  /** The highest seq seen for a flow; undefined before any of its messages. */
  function lastSeq(flowId: string): number | undefined {
    return cursors.get(flowId);
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

  return { entries, nodeFilter, onlyErrors, currentFlowOnly, add, addMessages, lastSeq, clear, visible, nodesWithEntries };
});
