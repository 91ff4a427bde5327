/** subflow-in: where a flow called by a subflow-call node starts. The runtime delivers the call via onInput. */
import { defineNode } from '@flowcrew/sdk';

export const subflowInNode = defineNode<Record<string, never>>({
  type: 'subflow-in',
  category: 'trigger',
  label: 'sub-flow in',
  icon: 'login',
  color: '#dddddd',
  role: { kind: 'subflow-entry' },
  inputs: 0,
  outputs: 1,
  props: { type: 'object', properties: {} },
  help: `The entry point of a flow that other flows call with a **subflow-call** node.

### Output
The message the caller sent, unchanged.

A flow called this way should end in a **subflow-out** node, whose message becomes the caller's result.
`,
  create() {
    return {
      onInput: (msg) => msg,
    };
  },
});
