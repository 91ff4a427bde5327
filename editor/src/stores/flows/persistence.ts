/**
 * Keeping a working copy: drafts in localStorage (a reload or a crash loses nothing), save (POST when new, PUT
 * with If-Match otherwise), deploy, and reloading the stored flow after a conflict.
 */
import { ApiError, api } from '../../api/client';
import type { FlowDocument } from '../../api/types';
import { publishTab, reloadTab } from '../../components/subflows/subflow-tab';
import { useNoticesStore } from '../notices';
import { adopt, type FlowsContext, type OpenFlow } from './context';
import { issuesOnNodes, refusalText } from './issues';
import { DRAFT_PREFIX, plain, readStorage, writeStorage } from './storage';

export function persistence(ctx: FlowsContext) {
  const notices = useNoticesStore();
  const { open, activeId, history, afterChange } = ctx;
  const draftTimers = new Map<string, ReturnType<typeof setTimeout>>();

  function scheduleDraft(id: string): void {
    clearTimeout(draftTimers.get(id));
    draftTimers.set(
      id,
      setTimeout(() => {
        draftTimers.delete(id);
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

  function forgetDraft(id: string): void {
    writeStorage(DRAFT_PREFIX + id, undefined);
  }

  function refuse(flow: OpenFlow, error: unknown, sent: FlowDocument, what: 'save' | 'deploy'): void {
    if (error instanceof ApiError && error.status === 409 && what === 'save') {
      flow.conflict = { currentVersion: typeof error.problem.currentVersion === 'number' ? error.problem.currentVersion : undefined };
      notices.error(`"${flow.doc.name}" was changed elsewhere`, 'Your changes are kept. Choose to overwrite the stored flow or to reload it.', `flow:${flow.doc.id}`);
      return;
    }
    if (error instanceof ApiError && error.issues.length) {
      flow.serverIssues = issuesOnNodes(error.issues, sent);
      const { title, detail } = refusalText(error, sent, what, flow.serverIssues);
      notices.error(title, detail, `flow:${flow.doc.id}`);
      return;
    }
    notices.error(`${what === 'deploy' ? 'Deploy' : 'Save'} failed`, (error as Error).message, `flow:${flow.doc.id}`);
  }

  /** Save the working copy. Invalid flows are not sent; an unchanged one is not sent either (no empty version). */
  async function save(id = activeId.value, options: { overwrite?: boolean } = {}): Promise<boolean> {
    const flow = id ? open[id] : undefined;
    if (!id || !flow) return false;
    if (flow.library) return publishTab(ctx, notices, id, flow, flow.library, options);
    // Nothing changed since the stored version: no new, empty version (Ctrl+S pressed out of habit).
    if (!flow.dirty && flow.savedVersion !== null && !flow.conflict && !options.overwrite) {
      notices.info(`"${flow.doc.name}" has no unsaved changes`, `Version ${flow.savedVersion} is stored.`, `flow:${id}`);
      return true;
    }
    const problems = ctx.localIssues(flow);
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
      ctx.updateSummary(saved);
      forgetDraft(id);
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
    // A library sub-flow is not deployed: publishing its next version is its deploy.
    if (flow.library) return save(id);
    if ((flow.dirty || flow.savedVersion === null || flow.conflict) && !(await save(id))) return false;
    flow.busy = 'deploying';
    const sent = plain(flow.doc);
    try {
      const deployed = await api.deployFlow(id);
      flow.deployed = deployed.deployed;
      flow.deployedVersion = deployed.deployedVersion;
      flow.serverIssues = [];
      ctx.updateSummary(deployed);
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
    if (flow.library) return reloadTab(ctx, id, flow, flow.library);
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

  return { scheduleDraft, restoreDraft, forgetDraft, save, deploy, reloadFromServer };
}
