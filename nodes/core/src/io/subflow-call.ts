/** subflow-call: runs another deployed flow (from its subflow-in to its subflow-out) and outputs its answer. */
import { defineNode } from '@flowcrew/sdk';

export interface SubflowCallProps {
  flowId: string;
  /** How long to wait for the called flow's subflow-out, in ms. */
  timeoutMs?: number;
}

export const subflowCallNode = defineNode<SubflowCallProps>({
  type: 'subflow-call',
  category: 'flow',
  label: 'call sub-flow',
  icon: 'call_split',
  color: '#dddddd',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      flowId: { type: 'string', minLength: 1, title: 'Flow to call', description: 'Its id.' },
      timeoutMs: { type: 'integer', minimum: 1, default: 60000, title: 'Wait for the answer (ms)' },
    },
    required: ['flowId'],
  },
  help: `Calls another flow and waits for its answer.

### Properties
- **flowId**: the flow to call. It must be deployed and start with a **subflow-in** node.
- **timeoutMs**: how long to wait for its **subflow-out** node (default 60000).

### Input
The message to send into the called flow.

### Output
The message the called flow's subflow-out node received. The node fails if the called flow fails, does not answer in time,
or the calling run is cancelled (which cancels the called run too).
`,
  create(init) {
    const { flowId, timeoutMs } = init.props;
    if (!flowId) throw new Error('subflow-call: flowId is required');
    return {
      async onInput(msg, ctx) {
        return await init.services.callFlow(flowId, msg, { signal: ctx.signal, parentRunId: ctx.runId, timeoutMs });
      },
    };
  },
});
