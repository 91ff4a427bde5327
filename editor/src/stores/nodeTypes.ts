/** Installed node types (GET /node-types): the palette's content, the forms' schemas, the canvas's ports. */
import { defineStore } from 'pinia';
import { computed, shallowRef, ref } from 'vue';
import { api } from '../api/client';
import type { NodeTypeInfo } from '../api/types';
import { outputCount } from '../lib/ports';
import { loadValidation, validation } from '../lib/validation-lazy';

/** Palette order: where flows start, what they do, where they end. */
export const CATEGORY_ORDER = ['trigger', 'transform', 'flow', 'function', 'network', 'parser', 'ai', 'connector', 'output', 'other'];

export const CATEGORY_LABELS: Record<string, string> = {
  trigger: 'Triggers',
  transform: 'Transform',
  flow: 'Flow control',
  function: 'Function',
  network: 'Network',
  parser: 'Parsers',
  ai: 'AI',
  connector: 'Connectors',
  output: 'Output',
  other: 'Other',
};

export interface PaletteGroup {
  category: string;
  label: string;
  types: NodeTypeInfo[];
}

export const useNodeTypesStore = defineStore('nodeTypes', () => {
  // Schemas are read-only data: no deep reactivity needed.
  const list = shallowRef<NodeTypeInfo[]>([]);
  const loaded = ref(false);
  const error = ref<string | null>(null);

  const byType = computed(() => new Map(list.value.map((t) => [t.type, t])));

  async function load(): Promise<void> {
    try {
      // Validation (ajv, the expression parsers) loads alongside: forms and problem marks need both.
      const [types, checks] = await Promise.all([api.nodeTypes(), loadValidation()]);
      checks.resetValidators();
      list.value = types;
      error.value = null;
      loaded.value = true;
    } catch (e) {
      error.value = (e as Error).message;
    }
  }

  /** Palette groups, in CATEGORY_ORDER, filtered by a search over label, type, category and help; `hides` leaves types out. */
  function groups(query = '', hides?: (type: NodeTypeInfo) => boolean): PaletteGroup[] {
    const q = query.trim().toLowerCase();
    const matches = (t: NodeTypeInfo) =>
      !q || t.label.toLowerCase().includes(q) || t.type.toLowerCase().includes(q) || t.category.toLowerCase().includes(q) || t.help.toLowerCase().includes(q);
    const byCategory = new Map<string, NodeTypeInfo[]>();
    for (const type of list.value) {
      if (!matches(type) || hides?.(type)) continue;
      const category = CATEGORY_ORDER.includes(type.category) ? type.category : 'other';
      (byCategory.get(category) ?? byCategory.set(category, []).get(category)!).push(type);
    }
    // Label matches first when searching: typing "http" should show "http request" above nodes that mention HTTP in help.
    const rank = (t: NodeTypeInfo) => (!q ? 0 : t.label.toLowerCase().startsWith(q) ? 0 : t.label.toLowerCase().includes(q) || t.type.includes(q) ? 1 : 2);
    return CATEGORY_ORDER.filter((c) => byCategory.has(c)).map((category) => ({
      category,
      label: CATEGORY_LABELS[category] ?? category,
      types: byCategory.get(category)!.sort((a, b) => rank(a) - rank(b) || a.label.localeCompare(b.label)),
    }));
  }

  function ports(type: string, props: Record<string, unknown> | undefined): number {
    return outputCount(byType.value.get(type), props);
  }

  function defaults(type: string): Record<string, unknown> {
    const info = byType.value.get(type);
    return info ? (validation()?.initialProps(info) ?? {}) : {};
  }

  return { list, loaded, error, byType, load, groups, ports, defaults };
});
