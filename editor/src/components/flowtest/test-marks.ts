/**
 * The flow test results drawn on the canvas: for the case picked in the tests panel, each node's outcome (its
 * assertions passed or failed, it failed in the run, it ran, it was mocked). Cleared with the panel.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { CaseResult } from './api';

export type TestMark = 'passed' | 'failed' | 'ran' | 'mocked';

/** One node's mark: assertions decide; else a failure in the run; else mocked; else whether it ran. */
export function markOf(node: CaseResult['nodes'][string]): TestMark | undefined {
  if (node.assertions) return node.assertions;
  if (node.failed > 0) return 'failed';
  if (node.mocked) return 'mocked';
  return node.ran > 0 ? 'ran' : undefined;
}

export const useTestMarks = defineStore('flowTestMarks', () => {
  const flowId = ref<string | null>(null);
  const caseName = ref('');
  const marks = ref<Record<string, TestMark>>({});

  function show(id: string, result: CaseResult): void {
    const next: Record<string, TestMark> = {};
    for (const [nodeId, node] of Object.entries(result.nodes)) {
      const mark = markOf(node);
      if (mark) next[nodeId] = mark;
    }
    flowId.value = id;
    caseName.value = result.name;
    marks.value = next;
  }

  function clear(): void {
    flowId.value = null;
    marks.value = {};
  }

  function of(id: string | null): Record<string, TestMark> {
    return id !== null && id === flowId.value ? marks.value : {};
  }

  return { flowId, caseName, marks, show, clear, of };
});
