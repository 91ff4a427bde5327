/** Run history: runs of a flow (newest first, paged), one run with its node invocations, manual runs and re-runs. */
import { defineStore } from 'pinia';
import { reactive, ref } from 'vue';
import { api } from '../api/client';
import type { RunDetail, RunRecord, RunStatus } from '../api/types';

const PAGE = 50;

export const useRunsStore = defineStore('runs', () => {
  const byFlow = reactive<Record<string, RunRecord[]>>({});
  const hasMore = reactive<Record<string, boolean>>({});
  const statusFilter = ref<RunStatus | ''>('');
  /** Production runs, the editor's test runs, or both (''): GET /runs?test=. */
  const kindFilter = ref<'' | 'production' | 'test'>('');
  const testQuery = () => (kindFilter.value ? kindFilter.value === 'test' : undefined);
  const kindOf = (run: Partial<RunRecord>) => (run.test ? 'test' : 'production');
  const loading = ref(false);
  const error = ref<string | null>(null);
  const current = ref<RunDetail | null>(null);
  const currentError = ref<string | null>(null);

  async function load(flowId: string): Promise<void> {
    loading.value = true;
    try {
      const runs = await api.listRuns({ flowId, status: statusFilter.value || undefined, test: testQuery(), limit: PAGE });
      byFlow[flowId] = runs;
      hasMore[flowId] = runs.length === PAGE;
      error.value = null;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading.value = false;
    }
  }

  async function loadMore(flowId: string): Promise<void> {
    const list = byFlow[flowId];
    const last = list?.[list.length - 1];
    if (!list || !last) return load(flowId);
    loading.value = true;
    try {
      const runs = await api.listRuns({ flowId, status: statusFilter.value || undefined, test: testQuery(), limit: PAGE, before: last.id });
      byFlow[flowId] = [...list, ...runs.filter((r) => !list.some((x) => x.id === r.id))];
      hasMore[flowId] = runs.length === PAGE;
    } catch (e) {
      error.value = (e as Error).message;
    } finally {
      loading.value = false;
    }
  }

  async function openRun(id: string): Promise<void> {
    try {
      current.value = await api.getRun(id);
      currentError.value = null;
    } catch (e) {
      currentError.value = (e as Error).message;
    }
  }

  function closeRun(): void {
    current.value = null;
    currentError.value = null;
  }

  /** A live event about a run: update it in loaded lists (and the open run's header). */
  function upsert(run: Partial<RunRecord> & { id: string; flowId: string }): void {
    const list = byFlow[run.flowId];
    if (list) {
      const index = list.findIndex((r) => r.id === run.id);
      const filtered = statusFilter.value && run.status && run.status !== statusFilter.value;
      if (index >= 0) {
        const merged = { ...list[index]!, ...run };
        if (filtered) list.splice(index, 1);
        else list.splice(index, 1, merged);
      } else if (!filtered && run.createdAt !== undefined && (!kindFilter.value || kindOf(run) === kindFilter.value)) {
        list.unshift({ flowVersion: 0, status: 'running', triggerNodeId: null, input: null, error: null, parentRunId: null, startedAt: null, finishedAt: null, ...run } as RunRecord);
      }
    }
    if (current.value?.id === run.id && run.status && run.status !== current.value.status) void openRun(run.id);
  }

  async function start(flowId: string, input: Record<string, unknown>, nodeId?: string): Promise<string> {
    const { runId } = await api.startRun(flowId, input, nodeId);
    return runId;
  }

  /** Run again with the original input: the runtime starts it the way the original entered the flow. */
  async function rerun(runId: string): Promise<string> {
    const { runId: newRunId } = await api.rerun(runId);
    return newRunId;
  }

  async function cancel(runId: string): Promise<void> {
    const run = await api.cancelRun(runId);
    upsert(run);
  }

  return { byFlow, hasMore, statusFilter, kindFilter, loading, error, current, currentError, load, loadMore, openRun, closeRun, upsert, start, rerun, cancel };
});
