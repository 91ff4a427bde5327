/** The canvas's contract with the editor: what it draws on nodes, what it reports, what it asks. */
export type NodeRunState = 'running' | 'succeeded' | 'failed' | 'cancelled';

/** What is drawn on top of a node: live run state, message count, runtime status, validation problems. */
export interface NodeDecoration {
  state?: NodeRunState;
  count?: number;
  statusText?: string;
  statusFill?: string;
  issues?: number;
  /** The node's output is pinned: manual runs use the pin instead of calling it. */
  pinned?: boolean;
  /** In the compared version diff (components/versions): added, changed or only moved since `diffSince`. */
  diff?: 'added' | 'changed' | 'moved';
  diffSince?: string;
  /** The flow test case picked in the tests panel (components/flowtest): this node's outcome in it. */
  test?: 'passed' | 'failed' | 'ran' | 'mocked';
}

export interface CanvasChange {
  positions: Map<string, { x: number; y: number }>;
  wires: Map<string, string[][]>;
  removed: string[];
}

export interface MenuItem {
  label: string;
  action: () => void;
  disabled?: boolean;
}

export interface GraphCallbacks {
  /** The user moved nodes or drew/removed wires on the canvas. */
  change(change: CanvasChange): void;
  select(ids: string[]): void;
  open(id: string): void;
  /** Keyboard shortcuts are the editor's (copy, paste, undo...), not litegraph's own. */
  shortcut(action: 'copy' | 'cut' | 'paste' | 'undo' | 'redo' | 'delete' | 'selectAll' | 'fit' | 'group', event: KeyboardEvent): void;
  nodeMenu(id: string): MenuItem[];
  canvasMenu(at: { x: number; y: number }): MenuItem[];
  decoration(id: string): NodeDecoration | undefined;
  /** The button on an inject node was clicked: start a run there (as Node-RED's inject button does). */
  inject?(id: string): void;
  /** The toggle on a debug node was clicked: switch its output on or off. */
  toggleDebug?(id: string): void;
}
