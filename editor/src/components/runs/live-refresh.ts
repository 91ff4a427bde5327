/**
 * The open run, kept current while it runs: the run view re-reads it (GET /runs/{id}) when something happened in
 * it — a node started or finished (the live store's events), an AI node reported progress (a task started or
 * ended, the manager assigned or reviewed, a plan was made: the crew-stream store) — so a crew's stored steps and
 * new invocations appear without a reload. Tokens alone do not count (the live panel shows them). Reads are
 * serialised and at most one per `gapMs`; one more follows if something happened while a read was in flight. Events
 * come for the flows the editor watches: a run opened from its flow's history, or by its address (which opens the flow).
 */
import { computed, onBeforeUnmount, watch, type Ref } from 'vue';
import { api } from '../../api/client';
import type { RunDetail } from '../../api/types';
import { useCrewStreamStore } from '../../stores/crewStream';
import { useLiveStore } from '../../stores/live';
import { useRunsStore } from '../../stores/runs';

const ACTIVE = new Set(['queued', 'running', 'waiting']);

export function isActive(run: Pick<RunDetail, 'status'> | null | undefined): boolean {
  return !!run && ACTIVE.has(run.status);
}

/** What the crew streams say about a run, without its tokens: changes when a task starts or ends, or an event is added. */
export function crewSignature(byNode: Record<string, { runId: string; plan?: string; tasks: Array<{ task: string; state: string; events: string[] }> }>, runId: string): string {
  const parts: string[] = [];
  for (const [key, stream] of Object.entries(byNode)) {
    if (stream.runId !== runId) continue;
    parts.push(`${key}:${stream.plan ? 'p' : ''}:${stream.tasks.map((t) => `${t.task}=${t.state}/${t.events.length}`).join(',')}`);
  }
  return parts.sort().join('|');
}

export function useLiveRunRefresh(run: Readonly<Ref<RunDetail | null>>, gapMs = 400): { refreshes: () => number } {
  const runs = useRunsStore();
  const live = useLiveStore();
  const streams = useCrewStreamStore();
  let inFlight = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastAt = 0;
  let count = 0;
  let stopped = false;

  async function refresh(): Promise<void> {
    const id = runs.current?.id;
    if (!id || stopped) return;
    inFlight = true;
    lastAt = Date.now();
    try {
      const detail = await api.getRun(id);
      // Only if the same run is still the one shown (the user may have opened another meanwhile).
      if (!stopped && runs.current?.id === id) runs.current = detail;
      count++;
    } catch {
      // A failed read is not shown: the next event (or the Refresh button) reads again.
    } finally {
      inFlight = false;
    }
    if (again) {
      again = false;
      schedule();
    }
  }

  function schedule(): void {
    if (stopped || !runs.current) return;
    // A read already waiting covers this; one in flight may have missed it: read once more after it.
    if (timer) return;
    if (inFlight) {
      again = true;
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      void refresh();
    }, Math.max(0, lastAt + gapMs - Date.now()));
  }

  // Something happened: a node event of a watched flow (tick) or a crew's progress in this run.
  const signal = computed(() => (isActive(run.value) ? `${run.value!.id}#${live.tick}#${crewSignature(streams.byNode, run.value!.id)}` : null));
  watch(signal, (now, before) => {
    if (now && before && now.split('#')[0] === before.split('#')[0]) schedule();
  });
  onBeforeUnmount(() => {
    stopped = true;
    if (timer) clearTimeout(timer);
  });
  return { refreshes: () => count };
}
