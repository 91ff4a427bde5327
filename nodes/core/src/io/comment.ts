/** comment: Node-RED's comment node. Documentation on the canvas; it never handles messages. */
import { defineNode } from '@flowcrew/sdk';

export interface CommentProps {
  /** Markdown shown in the editor's info panel. */
  info?: string;
}

export const commentNode = defineNode<CommentProps>({
  type: 'comment',
  category: 'other',
  label: 'comment',
  icon: 'notes',
  color: '#ffffff',
  inputs: 0,
  outputs: 0,
  props: {
    type: 'object',
    properties: {
      info: { type: 'string', default: '', format: 'markdown', title: 'Text', description: 'Markdown.', 'x-editor': 'textarea' },
    },
  },
  help: `A note on the canvas. The node's name is shown on the canvas; **info** (markdown) is shown in the info panel.
It has no inputs or outputs and does nothing at run time.
`,
  create() {
    return {};
  },
});
