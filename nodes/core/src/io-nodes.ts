/** Core io nodes: triggers, HTTP, debug/catch/comment, sub-flows, delay and the sandboxed function node. */
import type { NodeDefinition } from '@flowcrew/sdk';
import { catchNode } from './io/catch.ts';
import { commentNode } from './io/comment.ts';
import { completeNode } from './io/complete.ts';
import { cronNode } from './io/cron.ts';
import { debugNode } from './io/debug.ts';
import { delayNode } from './io/delay.ts';
import { execNode } from './io/exec.ts';
import { functionNode } from './io/function.ts';
import { httpRequestNode } from './io/http-request.ts';
import { injectNode } from './io/inject.ts';
import { statusNode } from './io/status.ts';
import { subflowCallNode } from './io/subflow-call.ts';
import { subflowInNode } from './io/subflow-in.ts';
import { subflowOutNode } from './io/subflow-out.ts';
import { subflowStatusNode } from './io/subflow-status.ts';
import { webhookResponseNode } from './io/webhook-response.ts';
import { webhookNode } from './io/webhook.ts';

export { catchesNode, catchNodesFor } from './io/catch.ts';

export const ioNodes: NodeDefinition[] = [
  injectNode,
  cronNode,
  webhookNode,
  webhookResponseNode,
  httpRequestNode,
  debugNode,
  catchNode,
  statusNode,
  completeNode,
  commentNode,
  subflowInNode,
  subflowOutNode,
  subflowStatusNode,
  subflowCallNode,
  delayNode,
  functionNode,
  execNode,
];
