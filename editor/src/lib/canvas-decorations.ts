/**
 * What the canvas draws on and under each node (Canvas.vue): live state, message count, status, problems, pin,
 * version-diff and test marks, gathered from their stores into one plain map the draw loop reads for every visible
 * node, every frame. The same facts as text lines (`stateLines`): the canvas is a bitmap, the list is what screen
 * readers and the end-to-end tests read.
 */
import { ref, watch } from 'vue';
import type { NodeDecoration } from './graph';
import { useFlowsStore } from '../stores/flows';
import { useLiveStore } from '../stores/live';
import { usePinsStore } from '../stores/pins';
import { useDiffMarks } from '../components/versions/diff-marks';
import { useTestMarks } from '../components/flowtest/test-marks';

export function useCanvasDecorations(redraw: () => void) {
  const flows = useFlowsStore();
  const live = useLiveStore();
  const pins = usePinsStore();
  const diffMarks = useDiffMarks();
  const testMarks = useTestMarks();
  let decorations = new Map<string, NodeDecoration>();
  const stateLines = ref<Array<{ id: string; text: string }>>([]);

  function rebuild(): void {
    const flowId = flows.activeId;
    const next = new Map<string, NodeDecoration>();
    const liveNodes = flowId ? live.nodes[flowId] : undefined;
    if (liveNodes) {
      for (const [id, state] of Object.entries(liveNodes)) next.set(id, { state: state.state, count: state.count, statusText: state.statusText, statusFill: state.statusFill });
    }
    for (const [id, issues] of flows.activeIssues.byNode) next.set(id, { ...next.get(id), issues: issues.length });
    for (const id of Object.keys(pins.of(flowId))) next.set(id, { ...next.get(id), pinned: true });
    for (const [id, mark] of Object.entries(diffMarks.of(flowId))) next.set(id, { ...next.get(id), diff: mark, diffSince: diffMarks.label });
    for (const [id, mark] of Object.entries(testMarks.of(flowId))) next.set(id, { ...next.get(id), test: mark });
    decorations = next;
    const names = new Map((flows.active?.doc.nodes ?? []).map((n) => [n.id, n.name || n.type]));
    stateLines.value = [...next.entries()]
      .filter(([id]) => names.has(id))
      .map(([id, d]) => ({
        id,
        text: [
          `${names.get(id)}: ${d.state ?? 'idle'}`,
          d.count ? `${d.count} message${d.count === 1 ? '' : 's'}` : '',
          d.statusText ? `status "${d.statusText}"` : '',
          d.issues ? `${d.issues} problem${d.issues === 1 ? '' : 's'}` : '',
          d.pinned ? 'output pinned' : '',
          d.diff ? `${d.diff} since ${d.diffSince}` : '',
          d.test ? `test ${d.test}` : '',
        ].filter(Boolean).join(', '),
      }));
    redraw();
  }

  watch(() => [live.tick, flows.activeIssues, pins.byFlow[flows.activeId ?? '']], rebuild);
  watch(() => diffMarks.marks, rebuild);
  watch(() => testMarks.marks, rebuild);

  return { stateLines, rebuild, decorationOf: (id: string) => decorations.get(id) };
}
