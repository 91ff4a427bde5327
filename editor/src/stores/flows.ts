/**
 * Flows: the list, the open tabs, and for each open flow the working copy the user edits.
 *
 * The working copy is never replaced by a failed save or deploy: problems come back as issues attached to
 * nodes and fields, a version conflict is shown with a choice, and unsaved work is also kept as a draft in
 * localStorage so a reload or a crash does not lose it. Every edit goes through `edit()`, which records the
 * undo history and bumps `revision` (the canvas syncs on it).
 */
import { defineStore } from 'pinia';
import { computed, reactive, ref } from 'vue';
import { ApiError, api } from '../api/client';
import type { FlowDocument, FlowNode, FlowView, ImportResult, Issue } from '../api/types';
import { copyNodes, parseFragment, pasteNodes, type NodeFragment } from '../lib/clipboard';
import { layoutUnplaced } from '../lib/layout';
import { humanise } from '../lib/schema';
import { UndoHistory } from '../lib/history';
import { newFlowId, newNodeId } from '../lib/ids';
import { outputCount } from '../lib/ports';
import { validateFlowLocally } from '../lib/validation';
import { useCredentialsStore } from './credentials';
import { useNodeTypesStore } from './nodeTypes';
import { useNoticesStore } from './notices';

/** A problem located on a node (or on the flow when nodeId is absent); `path` is relative to the node, e.g. '/props/url'. */
export interface NodeIssue {
  nodeId?: string;
  path: string;
  message: string;
  source: 'local' | 'server';
}

export interface OpenFlow {
  doc: FlowDocument;
  /** The stored version this working copy is based on; null until first saved. */
  savedVersion: number | null;
  savedJson: string;
  dirty: boolean;
  deployed: boolean;
  deployedVersion: number | null;
  /** Issues from the runtime's last refusal (save or deploy), until the nodes concerned are edited. */
  serverIssues: NodeIssue[];
  /** Bumped on every change of `doc`. */
  revision: number;
  /** Set when a save was refused because the stored flow changed meanwhile. */
  conflict: { currentVersion?: number } | null;
  busy: '' | 'saving' | 'deploying';
}

const CLIPBOARD_KEY = 'flowcrew.clipboard';
const DRAFT_PREFIX = 'flowcrew.draft.';
const TABS_KEY = 'flowcrew.tabs';

function plain<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Map runtime issues (pointers into the document we sent) onto nodes and node-relative paths. */
export function issuesOnNodes(issues: readonly Issue[], sent: FlowDocument): NodeIssue[] {
  return issues.map((issue) => {
    const match = /^\/nodes\/(\d+)(\/.*)?$/.exec(issue.pointer);
    const nodeId = issue.nodeId ?? (match ? sent.nodes[Number(match[1])]?.id : undefined);
    const path = match ? (match[2] ?? '') : issue.pointer === '/' ? '' : issue.pointer;
    return { nodeId, path: nodeId ? path : issue.pointer, message: issue.message, source: 'server' as const };
  });
}

function readStorage<T>(key: string): T | undefined {
  try {
    const text = localStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

function writeStorage(key: string, value: unknown): void {
  try {
    if (value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: drafts are a convenience */
  }
}

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
  const draftTimers = new Map<string, ReturnType<typeof setTimeout>>();

  const active = computed<OpenFlow | undefined>(() => (activeId.value ? open[activeId.value] : undefined));

  function history(id: string): UndoHistory<string> {
    let h = histories.get(id);
    if (!h) histories.set(id, (h = new UndoHistory<string>()));
    return h;
  }

  const canUndo = computed(() => (historyTick.value, activeId.value ? history(activeId.value).canUndo : false));
  const canRedo = computed(() => (historyTick.value, activeId.value ? history(activeId.value).canRedo : false));

  // ---- validation ----

  function localIssues(flow: OpenFlow): Issue[] {
    return validateFlowLocally(flow.doc, nodeTypes.byType, (type, props) => outputCount(type, props));
  }

  /** Every problem of the active flow, local (checked as you type) and from the runtime, by node. */
  const activeIssues = computed(() => {
    const flow = active.value;
    const all: NodeIssue[] = [];
    if (flow) {
      all.push(...issuesOnNodes(localIssues(flow), flow.doc).map((i) => ({ ...i, source: 'local' as const })));
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

  // ---- list and tabs ----

  async function loadList(): Promise<void> {
    try {
      summaries.value = await api.listFlows();
      listError.value = null;
    } catch (e) {
      listError.value = (e as Error).message;
    }
  }

  function adopt(view: FlowView): OpenFlow {
    // Read-only fields of the stored flow are not part of the document (the project is the runtime's to keep).
    const { deployed, deployedVersion, updatedAt: _updatedAt, projectId: _projectId, ...doc } = view;
    // Nodes stored without a position (a script, an API client) are laid out instead of stacking at 0,0. This is
    // not an unsaved change by itself: the positions are stored with the next save.
    layoutUnplaced(doc.nodes);
    const flow: OpenFlow = {
      doc: plain(doc),
      savedVersion: view.version,
      savedJson: JSON.stringify(doc),
      dirty: false,
      deployed,
      deployedVersion,
      serverIssues: [],
      revision: 0,
      conflict: null,
      busy: '',
    };
    return flow;
  }

  function updateSummary(view: FlowView): void {
    const index = summaries.value.findIndex((f) => f.id === view.id);
    if (index >= 0) summaries.value.splice(index, 1, view);
    else summaries.value.push(view);
  }

  async function openFlow(id: string): Promise<boolean> {
    if (!open[id]) {
      let view: FlowView;
      try {
        view = await api.getFlow(id);
      } catch (e) {
        notices.error(`Could not open flow "${id}"`, (e as Error).message);
        return false;
      }
      open[id] = adopt(view);
      restoreDraft(id);
    }
    if (!tabs.value.includes(id)) tabs.value.push(id);
    activate(id);
    writeStorage(TABS_KEY, { tabs: tabs.value, active: id });
    return true;
  }

  function activate(id: string | null): void {
    if (activeId.value === id) return;
    activeId.value = id;
    selection.value = [];
    writeStorage(TABS_KEY, { tabs: tabs.value, active: id });
  }

  function closeTab(id: string): void {
    tabs.value = tabs.value.filter((t) => t !== id);
    const flow = open[id];
    // A closed tab with unsaved work keeps its draft in localStorage; reopening restores it.
    if (flow && !flow.dirty) writeStorage(DRAFT_PREFIX + id, undefined);
    delete open[id];
    histories.delete(id);
    if (activeId.value === id) activate(tabs.value[tabs.value.length - 1] ?? null);
    writeStorage(TABS_KEY, { tabs: tabs.value, active: activeId.value });
  }

  /** Reopen the tabs of the last session (those that still exist). */
  async function restoreTabs(): Promise<void> {
    const saved = readStorage<{ tabs: string[]; active: string | null }>(TABS_KEY);
    if (!saved) return;
    const existing = new Set(summaries.value.map((f) => f.id));
    for (const id of saved.tabs) if (existing.has(id)) await openFlow(id);
    if (saved.active && open[saved.active]) activate(saved.active);
  }

  async function createFlow(name: string): Promise<string | undefined> {
    const taken = new Set(summaries.value.map((f) => f.id));
    const doc: FlowDocument = { format: 'flowcrew/flow@1', id: newFlowId(name, taken), name: name.trim() || 'New flow', version: 0, nodes: [] };
    try {
      const view = await api.createFlow(doc);
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
    writeStorage(DRAFT_PREFIX + id, undefined);
    closeTab(id);
    notices.success(`Flow "${id}" deleted`);
    return true;
  }

  // ---- editing ----

  /**
   * Apply one change to a flow's working copy. `key` groups repeated edits of one field into one undo step;
   * `touched` lists the nodes whose runtime issues are now stale.
   */
  function edit(id: string, mutate: (doc: FlowDocument) => void, options: { key?: string; touched?: readonly string[] } = {}): void {
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
    scheduleDraft(id);
  }

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

  function node(id: string): FlowNode | undefined {
    return active.value?.doc.nodes.find((n) => n.id === id);
  }

  function addNode(type: string, position: { x: number; y: number }): string | undefined {
    const flow = active.value;
    const info = nodeTypes.byType.get(type);
    if (!flow || !activeId.value || !info) return undefined;
    const id = newNodeId(new Set(flow.doc.nodes.map((n) => n.id)));
    const created: FlowNode = {
      id,
      type,
      name: '',
      position: { x: Math.round(position.x / 10) * 10, y: Math.round(position.y / 10) * 10 },
      props: nodeTypes.defaults(type),
      wires: [],
    };
    // A node that needs a credential gets the only stored one of its type, if there is exactly one.
    if (info.credentials) {
      const candidates = useCredentialsStore().ofType(info.credentials.type);
      if (candidates.length === 1) created.credentials = candidates[0]!.id;
    }
    edit(activeId.value, (doc) => doc.nodes.push(created), { touched: [id] });
    selection.value = [id];
    return id;
  }

  /** Change one node. Pass a `key` (e.g. 'props:<id>:<field>') when called per keystroke. */
  function updateNode(nodeId: string, change: (node: FlowNode) => void, key?: string): void {
    if (!activeId.value) return;
    edit(
      activeId.value,
      (doc) => {
        const target = doc.nodes.find((n) => n.id === nodeId);
        if (target) change(target);
      },
      { key, touched: [nodeId] },
    );
  }

  /**
   * Replace a node's props. When the props drive the number of output ports (a switch's rules) and one rule was
   * removed or two swapped, the wires move with their rule instead of staying on a port number.
   */
  function setProps(nodeId: string, props: Record<string, unknown>, key?: string): void {
    const current = node(nodeId);
    if (!current) return;
    const info = nodeTypes.byType.get(current.type);
    const portProp = info && typeof info.outputs === 'object' ? info.outputs.prop : undefined;
    const before = portProp ? current.props?.[portProp] : undefined;
    const after = portProp ? props[portProp] : undefined;
    updateNode(
      nodeId,
      (n) => {
        n.props = props;
        if (Array.isArray(before) && Array.isArray(after) && n.wires?.length) n.wires = remapWires(n.wires, before, after);
        const ports = outputCount(info, props);
        if (n.wires && n.wires.length > ports) n.wires = n.wires.slice(0, ports);
      },
      key,
    );
  }

  function deleteNodes(ids: readonly string[]): void {
    if (!activeId.value || ids.length === 0) return;
    const gone = new Set(ids);
    edit(
      activeId.value,
      (doc) => {
        doc.nodes = doc.nodes.filter((n) => !gone.has(n.id));
        for (const n of doc.nodes) if (n.wires) n.wires = n.wires.map((targets) => targets.filter((t) => !gone.has(t)));
      },
      { touched: ids },
    );
    selection.value = selection.value.filter((s) => !gone.has(s));
  }

  /** What the user did on the canvas (moves, wires drawn or removed), as one undo step. */
  function applyCanvasChange(change: { positions: Map<string, { x: number; y: number }>; wires: Map<string, string[][]>; removed: string[] }): void {
    if (!activeId.value) return;
    const gone = new Set(change.removed);
    edit(
      activeId.value,
      (doc) => {
        if (gone.size) doc.nodes = doc.nodes.filter((n) => !gone.has(n.id));
        for (const n of doc.nodes) {
          const position = change.positions.get(n.id);
          if (position) n.position = position;
          const wires = change.wires.get(n.id);
          if (wires) n.wires = wires;
          if (gone.size && n.wires) n.wires = n.wires.map((targets) => targets.filter((t) => !gone.has(t)));
        }
      },
      { touched: [...change.wires.keys(), ...change.removed] },
    );
  }

  function select(ids: readonly string[]): void {
    selection.value = [...ids];
  }

  function selectAll(): void {
    selection.value = active.value?.doc.nodes.map((n) => n.id) ?? [];
  }

  // ---- clipboard ----

  /** Copy the selection: returns the JSON text to put on the system clipboard; also kept for menu pastes. */
  function copySelection(): string | undefined {
    const flow = active.value;
    if (!flow || selection.value.length === 0) return undefined;
    const fragment = copyNodes(flow.doc.nodes, new Set(selection.value));
    const text = JSON.stringify(fragment, null, 2);
    writeStorage(CLIPBOARD_KEY, fragment);
    return text;
  }

  function cutSelection(): string | undefined {
    const text = copySelection();
    if (text) deleteNodes(selection.value);
    return text;
  }

  /**
   * Paste copied nodes (from clipboard text, else the last copy in this browser). Returns false when the text is
   * not a node fragment (the caller may then offer it to the import dialog).
   */
  function paste(text?: string, at?: { x: number; y: number }): boolean {
    const fragment: NodeFragment | undefined = text !== undefined ? parseFragment(text) : readStorage<NodeFragment>(CLIPBOARD_KEY);
    const flow = active.value;
    if (!fragment || !flow || !activeId.value) return false;
    const added = pasteNodes(fragment, new Set(flow.doc.nodes.map((n) => n.id)), at);
    edit(activeId.value, (doc) => doc.nodes.push(...added), { touched: added.map((n) => n.id) });
    selection.value = added.map((n) => n.id);
    return true;
  }

  // ---- drafts ----

  function scheduleDraft(id: string): void {
    clearTimeout(draftTimers.get(id));
    draftTimers.set(
      id,
      setTimeout(() => {
        const flow = open[id];
        if (!flow) return;
        writeStorage(DRAFT_PREFIX + id, flow.dirty ? { baseVersion: flow.savedVersion, doc: flow.doc, savedAt: Date.now() } : undefined);
      }, 300),
    );
  }

  function restoreDraft(id: string): void {
    const draft = readStorage<{ baseVersion: number | null; doc: FlowDocument; savedAt: number }>(DRAFT_PREFIX + id);
    const flow = open[id];
    if (!draft || !flow || JSON.stringify(draft.doc) === flow.savedJson) return;
    history(id).record(() => JSON.stringify(flow.doc));
    flow.doc = draft.doc;
    // A draft of an older version is restored on top of that version: saving it then reports the conflict.
    flow.savedVersion = draft.baseVersion;
    afterChange(id, flow);
    notices.info(`Restored unsaved changes to "${flow.doc.name}"`, draft.baseVersion !== null && draft.baseVersion !== flow.doc.version ? 'The flow changed on the server since; saving will ask what to keep.' : undefined);
  }

  // ---- save and deploy ----

  function refuse(flow: OpenFlow, error: unknown, sent: FlowDocument, what: string): void {
    if (error instanceof ApiError && error.status === 409 && what === 'save') {
      flow.conflict = { currentVersion: typeof error.problem.currentVersion === 'number' ? error.problem.currentVersion : undefined };
      notices.error(`"${flow.doc.name}" was changed elsewhere`, 'Your changes are kept. Choose to overwrite the stored flow or to reload it.', `flow:${flow.doc.id}`);
      return;
    }
    if (error instanceof ApiError && error.issues.length) {
      flow.serverIssues = issuesOnNodes(error.issues, sent);
      const where = new Set(flow.serverIssues.map((i) => i.nodeId).filter(Boolean)).size;
      // Name the nodes as the user sees them (their name, else their type), not by id; the fields are marked in the form.
      const nodeName = (id: string) => {
        const node = sent.nodes.find((n) => n.id === id);
        return node ? `"${node.name || node.type}"` : id;
      };
      const field = (path: string) => {
        const last = path.split('/').filter((segment) => segment && !/^\d+$/.test(segment)).pop();
        return last && last !== 'props' ? `${humanise(last)} ` : '';
      };
      const lines = flow.serverIssues.slice(0, 3).map((i) => `${i.nodeId ? `${nodeName(i.nodeId)}: ` : ''}${field(i.path)}${i.message}`);
      if (flow.serverIssues.length > 3) lines.push(`…and ${flow.serverIssues.length - 3} more (marked on the nodes)`);
      notices.error(`${what === 'deploy' ? 'Deploy' : 'Save'} refused: ${error.issues.length} problem${error.issues.length === 1 ? '' : 's'}${where ? ` on ${where} node${where === 1 ? '' : 's'}` : ''}`, lines.join('\n') || error.problem.detail, `flow:${flow.doc.id}`);
      return;
    }
    notices.error(`${what === 'deploy' ? 'Deploy' : 'Save'} failed`, (error as Error).message, `flow:${flow.doc.id}`);
  }

  /** Save the working copy (POST when new, PUT with If-Match otherwise). Invalid flows are not sent. */
  async function save(id = activeId.value, options: { overwrite?: boolean } = {}): Promise<boolean> {
    const flow = id ? open[id] : undefined;
    if (!id || !flow) return false;
    // Nothing changed since the stored version: no new, empty version (Ctrl+S pressed out of habit).
    if (!flow.dirty && flow.savedVersion !== null && !flow.conflict && !options.overwrite) {
      notices.info(`"${flow.doc.name}" has no unsaved changes`, `Version ${flow.savedVersion} is stored.`, `flow:${id}`);
      return true;
    }
    const problems = localIssues(flow);
    if (problems.length) {
      notices.error(`${problems.length} problem${problems.length === 1 ? '' : 's'} to fix first`, 'Invalid values are marked on the nodes; nothing was sent.', `flow:${id}`);
      return false;
    }
    flow.busy = 'saving';
    const sent = plain({ ...flow.doc, format: 'flowcrew/flow@1' as const, version: flow.savedVersion ?? 0 });
    try {
      let expected = flow.savedVersion;
      if (options.overwrite) expected = (await api.getFlow(id)).version;
      const saved = expected === null ? await api.createFlow(sent) : await api.updateFlow(sent, expected);
      flow.savedVersion = saved.version;
      flow.doc.version = saved.version;
      flow.savedJson = JSON.stringify(flow.doc);
      flow.dirty = false;
      flow.serverIssues = [];
      flow.conflict = null;
      flow.deployed = saved.deployed;
      flow.deployedVersion = saved.deployedVersion;
      updateSummary(saved);
      writeStorage(DRAFT_PREFIX + id, undefined);
      notices.success(`Saved "${flow.doc.name}" (version ${saved.version})`, undefined, `flow:${id}`);
      return true;
    } catch (error) {
      refuse(flow, error, sent, 'save');
      return false;
    } finally {
      flow.busy = '';
    }
  }

  /** Save if needed, then deploy the stored revision. */
  async function deploy(id = activeId.value): Promise<boolean> {
    const flow = id ? open[id] : undefined;
    if (!id || !flow) return false;
    if ((flow.dirty || flow.savedVersion === null || flow.conflict) && !(await save(id))) return false;
    flow.busy = 'deploying';
    const sent = plain(flow.doc);
    try {
      const deployed = await api.deployFlow(id);
      flow.deployed = deployed.deployed;
      flow.deployedVersion = deployed.deployedVersion;
      flow.serverIssues = [];
      updateSummary(deployed);
      notices.success(`Deployed "${flow.doc.name}" (version ${deployed.deployedVersion})`, undefined, `flow:${id}`);
      return true;
    } catch (error) {
      refuse(flow, error, sent, 'deploy');
      return false;
    } finally {
      flow.busy = '';
    }
  }

  /** Resolve a conflict by discarding local changes (undo brings them back). */
  async function reloadFromServer(id: string): Promise<void> {
    const flow = open[id];
    if (!flow) return;
    const view = await api.getFlow(id);
    const fresh = adopt(view);
    history(id).record(() => JSON.stringify(flow.doc));
    flow.doc = fresh.doc;
    flow.savedVersion = fresh.savedVersion;
    flow.savedJson = fresh.savedJson;
    flow.deployed = fresh.deployed;
    flow.deployedVersion = fresh.deployedVersion;
    flow.conflict = null;
    flow.serverIssues = [];
    afterChange(id, flow);
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
      if (flow && !flow.dirty) await reloadFromServer(imported.id);
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
    loadList,
    openFlow,
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
    node,
    addNode,
    updateNode,
    setProps,
    deleteNodes,
    applyCanvasChange,
    select,
    selectAll,
    copySelection,
    cutSelection,
    paste,
    save,
    deploy,
    reloadFromServer,
    exportJson,
    afterImport,
  };
});

/**
 * Wires follow their array entry when one entry was removed or two neighbours swapped; otherwise they stay by index.
 */
export function remapWires(wires: string[][], before: unknown[], after: unknown[]): string[][] {
  const key = (v: unknown) => JSON.stringify(v);
  const b = before.map(key);
  const a = after.map(key);
  if (a.length === b.length - 1) {
    const removed = b.findIndex((v, i) => v !== a[i]);
    const at = removed < 0 ? b.length - 1 : removed;
    if (b.filter((_, i) => i !== at).every((v, i) => v === a[i])) return wires.filter((_, i) => i !== at);
  }
  if (a.length === b.length) {
    const diff = b.map((v, i) => (v !== a[i] ? i : -1)).filter((i) => i >= 0);
    if (diff.length === 2 && diff[1] === diff[0]! + 1 && b[diff[0]!] === a[diff[1]!] && b[diff[1]!] === a[diff[0]!]) {
      const next = [...wires];
      while (next.length <= diff[1]!) next.push([]);
      [next[diff[0]!], next[diff[1]!]] = [next[diff[1]!]!, next[diff[0]!]!];
      return next;
    }
  }
  return wires;
}
