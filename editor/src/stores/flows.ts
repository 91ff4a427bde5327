/**
 * Flows: the list, the open tabs, and for each open flow the working copy the user edits.
 *
 * The working copy is never replaced by a failed save or deploy: problems come back as issues attached to
 * nodes and fields, a version conflict is shown with a choice, and unsaved work is also kept as a draft in
 * localStorage so a reload or a crash does not lose it. Every edit goes through `edit()`, which records the
 * undo history and bumps `revision` (the canvas syncs on it).
 *
 * The parts live in stores/flows/: node edits and the clipboard (node-edits.ts), drafts, save and deploy
 * (persistence.ts), problems by node (issues.ts), the working copy's shape (context.ts).
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import { ApiError, api } from '../api/client';
import type { FlowDocument, FlowView, ImportResult, Issue } from '../api/types';
import { UndoHistory } from '../lib/history';
import { newFlowId } from '../lib/ids';
import { outputCount } from '../lib/ports';
import { validation } from '../lib/validation-lazy';
import { useNodeTypesStore } from './nodeTypes';
import { useNoticesStore } from './notices';
import { adopt, type EditOptions, type FlowsContext, type OpenFlow } from './flows/context';
import { issuesOnNodes, type NodeIssue } from './flows/issues';
import { nodeEdits } from './flows/node-edits';
import { persistence } from './flows/persistence';
import { fetchTab, isSubflowTab } from '../components/subflows/subflow-tab';
import { TABS_KEY, plain, readStorage, writeStorage } from './flows/storage';

export type { OpenFlow } from './flows/context';
export { issuesOnNodes, type NodeIssue } from './flows/issues';
export { remapWires } from './flows/wires';

export const useFlowsStore = defineStore('flows', () => {
  const nodeTypes = useNodeTypesStore();
  const notices = useNoticesStore();

  const summaries = ref<FlowView[]>([]);
  const open = reactive<Record<string, OpenFlow>>({});
  const tabs = ref<string[]>([]);
  const activeId = ref<string | null>(null);
  const selection = ref<string[]>([]);
  const listError = ref<string | null>(null);
  // Histories hold big strings; keeping them out of Vue's reactivity avoids proxying them. `historyTick` makes canUndo reactive.
  const histories = new Map<string, UndoHistory<string>>();
  const historyTick = ref(0);

  const active = computed<OpenFlow | undefined>(() => (activeId.value ? open[activeId.value] : undefined));

  function history(id: string): UndoHistory<string> {
    let h = histories.get(id);
    if (!h) histories.set(id, (h = new UndoHistory<string>()));
    return h;
  }

  const canUndo = computed(() => (historyTick.value, activeId.value ? history(activeId.value).canUndo : false));
  const canRedo = computed(() => (historyTick.value, activeId.value ? history(activeId.value).canRedo : false));

  // ---- validation ----

  /**
   * Flows the canvas has drawn once. Their problems (every node's props against its schema, expressions parsed) are
   * worked out only after that first frame: a large flow shows at once and its marks follow, instead of the page
   * staying blank while 1,000 nodes are checked.
   */
  const drawn = reactive(new Set<string>());
  function markDrawn(id: string): void {
    if (!drawn.has(id)) drawn.add(id);
  }

  function localIssues(flow: OpenFlow): Issue[] {
    // Loaded with the node types (stores/nodeTypes): without them there is nothing to check against anyway.
    return validation()?.validateFlowLocally(flow.doc, nodeTypes.byType, (type, props) => outputCount(type, props)) ?? [];
  }

  /** Every problem of the active flow, local (checked as you type) and from the runtime, by node. */
  const activeIssues = computed(() => {
    const flow = active.value;
    const all: NodeIssue[] = [];
    if (flow) {
      if (drawn.has(flow.doc.id)) all.push(...issuesOnNodes(localIssues(flow), flow.doc).map((i) => ({ ...i, source: 'local' as const })));
      for (const issue of flow.serverIssues) {
        if (!all.some((i) => i.nodeId === issue.nodeId && i.path === issue.path && i.message === issue.message)) all.push(issue);
      }
    }
    const byNode = new Map<string, NodeIssue[]>();
    const flowLevel: NodeIssue[] = [];
    for (const issue of all) {
      if (issue.nodeId) (byNode.get(issue.nodeId) ?? byNode.set(issue.nodeId, []).get(issue.nodeId)!).push(issue);
      else flowLevel.push(issue);
    }
    return { all, byNode, flowLevel };
  });

  // ---- editing primitives ----

  /** Apply one change to a flow's working copy (one undo step; see EditOptions). */
  function edit(id: string, mutate: (doc: FlowDocument) => void, options: EditOptions = {}): void {
    const flow = open[id];
    if (!flow) return;
    history(id).record(() => JSON.stringify(flow.doc), options.key);
    mutate(flow.doc);
    // Flow-level refusals are stale after any edit; node-level ones once their node is edited.
    const touched = new Set(options.touched ?? []);
    flow.serverIssues = flow.serverIssues.filter((i) => i.nodeId && !touched.has(i.nodeId));
    afterChange(id, flow);
  }

  function afterChange(id: string, flow: OpenFlow): void {
    flow.revision++;
    flow.dirty = JSON.stringify(flow.doc) !== flow.savedJson;
    historyTick.value++;
    kept.scheduleDraft(id);
  }

  function updateSummary(view: FlowView): void {
    const index = summaries.value.findIndex((f) => f.id === view.id);
    if (index >= 0) summaries.value.splice(index, 1, view);
    else summaries.value.push(view);
  }

  const ctx: FlowsContext = { open, activeId, active, selection, edit, afterChange, history, localIssues, updateSummary };
  const kept = persistence(ctx);
  const nodes = nodeEdits(ctx);

  function replaceDoc(id: string, json: string): void {
    const flow = open[id];
    if (!flow) return;
    flow.doc = JSON.parse(json) as FlowDocument;
    const ids = new Set(flow.doc.nodes.map((n) => n.id));
    selection.value = selection.value.filter((s) => ids.has(s));
    afterChange(id, flow);
  }

  function undo(): void {
    const id = activeId.value;
    const flow = id ? open[id] : undefined;
    if (!id || !flow) return;
    const previous = history(id).undo(JSON.stringify(flow.doc));
    if (previous !== undefined) replaceDoc(id, previous);
  }

  function redo(): void {
    const id = activeId.value;
    const flow = id ? open[id] : undefined;
    if (!id || !flow) return;
    const next = history(id).redo(JSON.stringify(flow.doc));
    if (next !== undefined) replaceDoc(id, next);
  }

  /** End the current typing group: the next edit of the same field is a new undo step. */
  function sealHistory(): void {
    if (activeId.value) history(activeId.value).seal();
  }

  // ---- list and tabs ----

  async function loadList(): Promise<void> {
    try {
      summaries.value = await api.listFlows();
      listError.value = null;
    } catch (e) {
      listError.value = (e as Error).message;
    }
  }

  function rememberTabs(): void {
    writeStorage(TABS_KEY, { tabs: tabs.value, active: activeId.value });
  }

  /**
   * The latest openFlow call. Opening waits for the flow's fetch; an earlier call whose answer comes later (a slow
   * fetch, a click then another) still opens its tab but does not take the screen from the flow asked for since.
   */
  let latestOpen = 0;

  /** `show: false` opens the tab behind the flow on screen. */
  async function openFlow(id: string, show = true): Promise<boolean> {
    const ticket = ++latestOpen;
    if (!open[id] && isSubflowTab(id)) {
      try {
        openWorkingCopy(await fetchTab(id), show && ticket === latestOpen);
        return true;
      } catch (e) {
        notices.error(`Could not open sub-flow "${id}"`, (e as Error).message);
        return false;
      }
    }
    if (!open[id]) {
      let view: FlowView;
      try {
        view = await api.getFlow(id);
      } catch (e) {
        notices.error(`Could not open flow "${id}"`, (e as Error).message);
        return false;
      }
      open[id] = adopt(view);
      kept.restoreDraft(id);
    }
    if (!tabs.value.includes(id)) tabs.value.push(id);
    if (show && ticket === latestOpen) activate(id);
    rememberTabs();
    return true;
  }

  /** Open a working copy that is not a stored flow (a library sub-flow, components/subflows/subflow-tab.ts) as a tab. */
  function openWorkingCopy(copy: OpenFlow, show = true): void {
    const id = copy.doc.id;
    if (!open[id]) {
      open[id] = copy;
      kept.restoreDraft(id);
    }
    if (!tabs.value.includes(id)) tabs.value.push(id);
    if (show) activate(id);
    rememberTabs();
  }

  function activate(id: string | null): void {
    if (activeId.value === id) return;
    activeId.value = id;
    selection.value = [];
    rememberTabs();
  }

  function closeTab(id: string): void {
    tabs.value = tabs.value.filter((t) => t !== id);
    const flow = open[id];
    // A closed tab with unsaved work keeps its draft in localStorage; reopening restores it.
    if (flow && !flow.dirty) kept.forgetDraft(id);
    delete open[id];
    histories.delete(id);
    if (activeId.value === id) activate(tabs.value[tabs.value.length - 1] ?? null);
    rememberTabs();
  }

  /**
   * Reopen the tabs of the last session (those that still exist), showing the one that was shown (else the last) when
   * `show` and no flow is on screen yet: a flow the user went to meanwhile keeps the screen.
   */
  async function restoreTabs(show = true): Promise<void> {
    const saved = readStorage<{ tabs: string[]; active: string | null }>(TABS_KEY);
    if (!saved) return;
    const existing = new Set(summaries.value.map((f) => f.id));
    const restored: string[] = [];
    for (const id of saved.tabs) if ((existing.has(id) || isSubflowTab(id)) && (await openFlow(id, false))) restored.push(id);
    const shown = saved.active && open[saved.active] ? saved.active : restored.at(-1);
    if (show && !activeId.value && shown) activate(shown);
  }

  /** A new, empty flow (in `projectId` when given, else the runtime's default project). */
  async function createFlow(name: string, projectId?: string): Promise<string | undefined> {
    const taken = new Set(summaries.value.map((f) => f.id));
    const doc: FlowDocument = { format: 'flowcrew/flow@1', id: newFlowId(name, taken), name: name.trim() || 'New flow', version: 0, nodes: [] };
    try {
      const view = await api.createFlow(projectId ? ({ ...doc, projectId } as FlowDocument) : doc);
      updateSummary(view);
      open[view.id] = adopt(view);
      tabs.value.push(view.id);
      activate(view.id);
      return view.id;
    } catch (e) {
      notices.error('Could not create the flow', (e as Error).message);
      return undefined;
    }
  }

  async function deleteFlow(id: string): Promise<boolean> {
    try {
      await api.deleteFlow(id);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) {
        notices.error(`Could not delete flow "${id}"`, (e as Error).message);
        return false;
      }
    }
    summaries.value = summaries.value.filter((f) => f.id !== id);
    kept.forgetDraft(id);
    closeTab(id);
    notices.success(`Flow "${id}" deleted`);
    return true;
  }

  function rename(id: string, name: string): void {
    const trimmed = name.trim();
    if (!trimmed || open[id]?.doc.name === trimmed) return;
    edit(id, (doc) => (doc.name = trimmed), { touched: [] });
  }

  /** The working copy as Flowcrew JSON (what the user sees, saved or not). */
  function exportJson(id = activeId.value): string | undefined {
    const flow = id ? open[id] : undefined;
    if (!flow) return undefined;
    return JSON.stringify({ ...plain(flow.doc), format: 'flowcrew/flow@1' }, null, 2);
  }

  /** After an import: refresh the list, reload replaced flows that are open and unchanged, open the first. */
  async function afterImport(result: ImportResult): Promise<void> {
    await loadList();
    for (const imported of result.flows) {
      const flow = open[imported.id];
      if (flow && !flow.dirty) await kept.reloadFromServer(imported.id);
    }
    const first = result.flows[0];
    if (first) await openFlow(first.id);
  }

  return {
    summaries,
    open,
    tabs,
    activeId,
    active,
    selection,
    listError,
    canUndo,
    canRedo,
    activeIssues,
    drawn,
    markDrawn,
    loadList,
    openFlow,
    openWorkingCopy,
    activate,
    closeTab,
    restoreTabs,
    createFlow,
    deleteFlow,
    rename,
    edit,
    undo,
    redo,
    sealHistory,
    ...nodes,
    save: kept.save,
    deploy: kept.deploy,
    reloadFromServer: kept.reloadFromServer,
    exportJson,
    afterImport,
  };
});
