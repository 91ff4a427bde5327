/**
 * Node-RED's `link call` onto Flowcrew's link-call node: the link-in nodes it may enter at (its one target, or every
 * link in for a dynamic call that names its target in msg.target) with the Flowcrew flow and node each became, its
 * link type and its timeout in seconds.
 */
import type { PropsEditor } from './node-red-values.ts';

/** A link call's target as the link-call node reads it: the Flowcrew flow and node that a call enters at. */
export interface LinkEntry {
  id: string;
  name?: string;
  flowId: string;
  nodeId: string;
}

/** Rewrite a link call's props; `entries` are the imported link-in nodes it may enter at. Returns whether it has a target. */
export function linkCallProps(editor: PropsEditor, dynamic: boolean, entries: LinkEntry[]): boolean {
  editor.translate('targets', entries, dynamic ? 'the link-in nodes msg.target may name (by id or name), with their Flowcrew flow' : 'the link-in node it calls, with its Flowcrew flow');
  editor.oneOf('linkType', ['static', 'dynamic'], 'static');
  if (typeof editor.get('timeout') === 'string') {
    const seconds = Number.parseFloat(editor.get('timeout') as string);
    editor.translate('timeout', Number.isNaN(seconds) ? 30 : seconds, 'seconds stored as a string (Node-RED: 30 when unreadable)');
  }
  return dynamic || entries.length > 0;
}
