/** The working copy of one open flow, and what the parts of the flows store share. */
import type { ComputedRef, Ref } from 'vue';
import type { FlowDocument, FlowView, Issue } from '../../api/types';
import type { UndoHistory } from '../../lib/history';
import type { LibraryTab } from '../../components/subflows/subflow-tab';
import { layoutUnplaced } from '../../lib/layout';
import type { NodeIssue } from './issues';
import { plain } from './storage';

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
  /** Set when the tab is a library sub-flow (components/subflows/subflow-tab.ts): saving publishes its next version. */
  library?: LibraryTab;
}

export interface EditOptions {
  /** Groups repeated edits of one field into one undo step. */
  key?: string;
  /** The nodes whose runtime issues are now stale. */
  touched?: readonly string[];
}

/** The state and primitives the store's parts (node edits, persistence) work through. */
export interface FlowsContext {
  open: Record<string, OpenFlow>;
  activeId: Ref<string | null>;
  active: ComputedRef<OpenFlow | undefined>;
  selection: Ref<string[]>;
  edit(id: string, mutate: (doc: FlowDocument) => void, options?: EditOptions): void;
  afterChange(id: string, flow: OpenFlow): void;
  history(id: string): UndoHistory<string>;
  localIssues(flow: OpenFlow): Issue[];
  updateSummary(view: FlowView): void;
}

/** A stored flow as a fresh working copy. */
export function adopt(view: FlowView): OpenFlow {
  // Read-only fields of the stored flow are not part of the document (the project is the runtime's to keep).
  const { deployed, deployedVersion, updatedAt: _updatedAt, projectId: _projectId, ...doc } = view;
  // Nodes stored without a position (a script, an API client) are laid out instead of stacking at 0,0. This is
  // not an unsaved change by itself: the positions are stored with the next save.
  layoutUnplaced(doc.nodes);
  return {
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
}
