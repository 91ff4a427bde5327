/**
 * Which nodes of the open flow a compared diff touches, for the canvas to frame them (added / changed / moved), and
 * the nodes and wires it removed, drawn as ghosts where they were (diff-ghosts.ts). Only set when the newer side of the diff is
 * what the canvas shows (the current version), and cleared with the panel.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { RemovedGhost, RemovedWire } from './diff-ghosts';
import type { FlowDiff } from './types';

export type DiffMark = 'added' | 'changed' | 'moved';

export const useDiffMarks = defineStore('diffMarks', () => {
  const flowId = ref<string | null>(null);
  const label = ref('');
  const marks = ref<Record<string, DiffMark>>({});
  const removed = ref<RemovedGhost[]>([]);
  const removedWires = ref<RemovedWire[]>([]);

  function show(id: string, diff: FlowDiff, since: string): void {
    const next: Record<string, DiffMark> = {};
    for (const n of diff.added) next[n.id] = 'added';
    for (const n of diff.changed) next[n.id] = 'changed';
    for (const id of diff.moved) next[id] = 'moved';
    flowId.value = id;
    label.value = since;
    marks.value = next;
    removed.value = diff.removed.map((n) => ({ id: n.id, label: n.name || n.type, x: n.position?.x ?? 0, y: n.position?.y ?? 0 }));
    removedWires.value = diff.wires.removed.map((w) => ({ ...w }));
  }

  function clear(): void {
    flowId.value = null;
    marks.value = {};
    removed.value = [];
    removedWires.value = [];
  }

  /** The marks of `id`'s nodes (empty for another flow). */
  function of(id: string | null): Record<string, DiffMark> {
    return id !== null && id === flowId.value ? marks.value : {};
  }

  /** The removed nodes of `id` to draw as ghosts (none for another flow). */
  function removedOf(id: string | null): RemovedGhost[] {
    return id !== null && id === flowId.value ? removed.value : [];
  }

  /** The removed wires of `id` to draw (none for another flow). */
  function removedWiresOf(id: string | null): RemovedWire[] {
    return id !== null && id === flowId.value ? removedWires.value : [];
  }

  return { flowId, label, marks, removed, removedWires, show, clear, of, removedOf, removedWiresOf };
});
