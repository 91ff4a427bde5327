/** subflow-out: answers the subflow-call that started this run. */
import { defineNode } from '@flowcrew/sdk';

export const subflowOutNode = defineNode<Record<string, never>>({
  type: 'subflow-out',
  category: 'flow',
  label: 'sub-flow out',
  icon: 'logout',
  color: '#dddddd',
  inputs: 1,
  outputs: 0,
  props: { type: 'object', properties: {} },
  help: `Returns a message to the **subflow-call** node that called this flow.

### Input
The message to return. The first message to reach a subflow-out node is the result; later ones are ignored.
`,
  create() {
    return {
      onInput(msg, ctx) {
        ctx.reply({ body: msg });
      },
    };
  },
});
