/**
 * A library sub-flow opened in place, as Node-RED's subflow tab: a tab of the flows store like any flow, so the
 * canvas, undo/redo, copy/paste, palette drag and the property panel edit it exactly as they edit a flow. What
 * differs is kept here: the tab's id (`subflow/<id>`, never a flow id: flow ids cannot hold "/"), its typed interface
 * carried in the working copy (so interface edits are undone like node edits), and saving, which publishes the next
 * version instead of storing a flow (a sub-flow is never saved or deployed as a flow; flows keep their pinned version
 * until upgraded). A version published by someone else meanwhile is a conflict, shown as for a flow.
 */
import { ApiError } from '../../api/client';
import type { FlowDocument, FlowNode } from '../../api/types';
import { layoutUnplaced } from '../../lib/layout';
import type { FlowsContext, OpenFlow } from '../../stores/flows/context';
import { issuesOnNodes, refusalText } from '../../stores/flows/issues';
import { plain } from '../../stores/flows/storage';
import { subflowApi, type SubflowDefinition, type SubflowVersion } from './api';

const TAB_PREFIX = 'subflow/';

export type InterfaceKey = 'input' | 'output' | 'properties';
export type SubflowInterface = Partial<Record<InterfaceKey, Record<string, unknown>>>;

/** The working copy of a sub-flow: a flow document (its inner nodes) with the sub-flow's interface beside them. */
export type SubflowDocument = FlowDocument & { subflow: SubflowInterface };

/** What a tab keeps of the library's version it was opened from (OpenFlow.library). */
export interface LibraryTab {
  id: string;
  /** Kept as published; not edited in the tab. */
  color?: string;
  icon?: string;
  publishedAt: number;
  publishedBy: string | null;
}

export const subflowTabId = (id: string): string => `${TAB_PREFIX}${id}`;
export const isSubflowTab = (tabId: string | null | undefined): boolean => !!tabId && tabId.startsWith(TAB_PREFIX);

/** A tab id's latest published version as a working copy (reopening a tab after a reload, a link to it). */
export async function fetchTab(tabId: string): Promise<OpenFlow> {
  return adoptVersion(await subflowApi.latest(tabId.slice(TAB_PREFIX.length)));
}

/** The sub-flow's interface in a working copy (an empty one for a plain flow). */
export function interfaceOf(doc: FlowDocument): SubflowInterface {
  return (doc as Partial<SubflowDocument>).subflow ?? {};
}

/** A published version as a fresh working copy, ready to be a tab. */
export function adoptVersion(version: SubflowVersion): OpenFlow {
  const { id, name, description, input, output, properties, nodes, color, icon, env } = version.definition as SubflowDefinition & { color?: string; icon?: string };
  const doc: SubflowDocument = {
    id: subflowTabId(id),
    name,
    version: version.definition.version,
    ...(description ? { description } : {}),
    nodes: plain(nodes) as FlowNode[],
    // Its own variables (e.g. Node-RED's global env written in at import): kept, so publishing again keeps them.
    ...(env && Object.keys(env).length ? { env: plain(env) } : {}),
    subflow: { ...(input ? { input } : {}), ...(output ? { output } : {}), ...(properties ? { properties } : {}) },
  };
  layoutUnplaced(doc.nodes);
  return {
    doc,
    savedVersion: version.definition.version,
    savedJson: JSON.stringify(doc),
    dirty: false,
    // "Deployed" for a library sub-flow: its latest published version is what flows can pin.
    deployed: true,
    deployedVersion: version.definition.version,
    serverIssues: [],
    revision: 0,
    conflict: null,
    busy: '',
    library: { id, ...(color ? { color } : {}), ...(icon ? { icon } : {}), publishedAt: version.createdAt, publishedBy: version.createdBy },
  };
}

/** The definition to publish from a working copy: its nodes as drawn, its interface, name, description and variables. */
export function definitionOf(doc: FlowDocument, library: LibraryTab): Omit<SubflowDefinition, 'version'> {
  const iface = interfaceOf(doc);
  return plain({
    id: library.id,
    name: doc.name.trim() || library.id,
    ...(doc.description?.trim() ? { description: doc.description.trim() } : {}),
    ...(library.color ? { color: library.color } : {}),
    ...(library.icon ? { icon: library.icon } : {}),
    ...(iface.input ? { input: iface.input } : {}),
    ...(iface.output ? { output: iface.output } : {}),
    ...(iface.properties ? { properties: iface.properties } : {}),
    ...(doc.env && Object.keys(doc.env).length ? { env: doc.env } : {}),
    nodes: doc.nodes,
  });
}

type Notices = { info(title: string, detail?: string, key?: string): void; success(title: string, detail?: string, key?: string): void; error(title: string, detail?: string, key?: string): void };

/**
 * Ctrl+S, Save or Publish on a sub-flow tab: publish the working copy as the next version. Unchanged: nothing sent.
 * Local problems: nothing sent. The runtime's refusal: its problems marked on the nodes. Newer version published
 * meanwhile: a conflict (overwrite publishes yours on top of it, reload takes theirs; undo keeps yours).
 */
export async function publishTab(ctx: FlowsContext, notices: Notices, id: string, flow: OpenFlow, library: LibraryTab, options: { overwrite?: boolean } = {}): Promise<boolean> {
  const key = `flow:${id}`;
  if (!flow.dirty && !flow.conflict && !options.overwrite) {
    notices.info(`Sub-flow "${flow.doc.name}" has no unpublished changes`, `Version ${flow.savedVersion} is the latest.`, key);
    return true;
  }
  // A definition has no groups: refused rather than published without them (nothing the user drew is lost).
  if (flow.doc.groups?.length) {
    notices.error('A sub-flow cannot keep groups', `Ungroup ${flow.doc.groups.map((g) => `"${g.name}"`).join(', ')} first; nothing was published.`, key);
    return false;
  }
  const problems = ctx.localIssues(flow);
  if (problems.length) {
    notices.error(`${problems.length} problem${problems.length === 1 ? '' : 's'} to fix first`, 'Invalid values are marked on the nodes; nothing was published.', key);
    return false;
  }
  flow.busy = 'saving';
  const sent = plain(flow.doc);
  try {
    if (!options.overwrite) {
      const latest = await subflowApi.latest(library.id);
      if (latest.definition.version !== flow.savedVersion) {
        flow.conflict = { currentVersion: latest.definition.version };
        notices.error(`Sub-flow "${flow.doc.name}" v${latest.definition.version} was published meanwhile${latest.createdBy ? ` by ${latest.createdBy}` : ''}`, 'Your changes are kept. Choose to publish yours on top of it or to reload it.', key);
        return false;
      }
    }
    const published = await subflowApi.publish(definitionOf(sent, library));
    const version = published.definition.version;
    flow.doc.version = version;
    flow.savedVersion = version;
    flow.deployedVersion = version;
    flow.savedJson = JSON.stringify(flow.doc);
    flow.dirty = false;
    flow.conflict = null;
    flow.serverIssues = [];
    flow.library = { ...library, publishedAt: published.createdAt, publishedBy: published.createdBy };
    ctx.afterChange(id, flow);
    notices.success(`Published sub-flow "${flow.doc.name}" v${version}`, 'Flows using it keep their version until upgraded (its node offers the upgrade).', key);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.issues.length) {
      flow.serverIssues = issuesOnNodes(error.issues, sent);
      const { title, detail } = refusalText(error, sent, 'save', flow.serverIssues);
      notices.error(title.replace(/^Save/, 'Publish'), detail, key);
    } else notices.error('Publish failed', (error as Error).message, key);
    return false;
  } finally {
    flow.busy = '';
  }
}

/** Reload the latest published version into the tab (undo brings the working copy back). */
export async function reloadTab(ctx: FlowsContext, id: string, flow: OpenFlow, library: LibraryTab): Promise<void> {
  const fresh = adoptVersion(await subflowApi.latest(library.id));
  ctx.history(id).record(() => JSON.stringify(flow.doc));
  Object.assign(flow, { doc: fresh.doc, savedVersion: fresh.savedVersion, savedJson: fresh.savedJson, deployedVersion: fresh.deployedVersion, library: fresh.library, conflict: null, serverIssues: [] });
  ctx.afterChange(id, flow);
}
