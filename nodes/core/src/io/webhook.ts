/** webhook: Node-RED's "http in" node. An HTTP endpoint under /webhook that starts a run per request. */
import { defineNode, type FlowMessage, type TriggerReply, type WebhookRequest } from '@flowcrew/sdk';

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'ALL'] as const;

export interface WebhookProps {
  /** Node-RED writes these in lower case; either case is accepted. */
  method?: (typeof WEBHOOK_METHODS)[number] | Lowercase<(typeof WEBHOOK_METHODS)[number]>;
  /** Path below /webhook, starting with '/'; `:name` segments become msg.req.params.name. */
  url: string;
  /** How long to wait for a webhook-response node before answering 504. */
  responseTimeoutMs?: number;
}

/** Node-RED puts the body on msg.payload for methods that carry one, and the query for GET. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const webhookNode = defineNode<WebhookProps>({
  type: 'webhook',
  category: 'trigger',
  label: 'webhook',
  icon: 'webhook',
  color: '#e7e7ae',
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      method: { type: 'string', enum: [...WEBHOOK_METHODS, ...WEBHOOK_METHODS.map((m) => m.toLowerCase())], default: 'POST' },
      url: { type: 'string', pattern: '^/', minLength: 1, description: 'Path below /webhook, e.g. /orders/:id' },
      responseTimeoutMs: { type: 'integer', minimum: 1, default: 30000, description: 'Wait this long for a webhook-response node' },
    },
    required: ['url'],
  },
  help: `An HTTP endpoint: each request to \`/webhook<url>\` starts a run.

### Properties
- **method**: \`GET\`, \`POST\` (default), \`PUT\`, \`PATCH\`, \`DELETE\`, or \`ALL\` for any method.
- **url**: the path below \`/webhook\`, starting with \`/\`. Segments like \`:id\` are parameters (\`/orders/:id\`).
- **responseTimeoutMs**: when the flow has a **webhook-response** node, how long the caller waits for it (default 30000).

### Output
- \`msg.payload\`: the request body for POST, PUT, PATCH and DELETE; the query string object for GET.
  With \`ALL\`, the actual request method decides.
- \`msg.req\`: \`{ method, path, params, query, headers }\`.

### Response
If the flow contains a **webhook-response** node, the caller gets what it sends (or \`504\` if nothing is sent in time,
\`500\` if the run fails). Otherwise the request is answered at once with \`202\` and \`{ runId }\`.
`,
  create(init) {
    const method = (init.props.method ?? 'POST').toUpperCase();
    const path = init.props.url;
    if (!(WEBHOOK_METHODS as readonly string[]).includes(method)) throw new Error(`webhook: unsupported method "${init.props.method}"`);
    if (typeof path !== 'string' || !path.startsWith('/')) throw new Error(`webhook: url must start with "/" (got "${path}")`);
    const awaitReply = init.flow.nodes.some((n) => n.type === 'webhook-response');
    const replyTimeoutMs = init.props.responseTimeoutMs ?? 30_000;
    let unregister: (() => void) | undefined;

    const toMessage = (request: WebhookRequest): FlowMessage => {
      const effective = method === 'ALL' ? request.method.toUpperCase() : method;
      return {
        payload: BODY_METHODS.has(effective) ? request.body : request.query,
        req: { method: request.method, path: request.path, params: request.params, query: request.query, headers: request.headers },
        _webhook: true,
      };
    };

    return {
      start(trigger) {
        unregister = init.services.registerWebhook({
          method,
          path,
          async handle(request): Promise<TriggerReply> {
            try {
              const { runId, reply } = await trigger.emit(toMessage(request), { awaitReply, replyTimeoutMs });
              if (!awaitReply) return { status: 202, body: { runId } };
              if (!reply) throw new Error('the runtime did not wait for a response');
              return await reply;
            } catch (error) {
              const message = (error as Error).message;
              const timedOut = (error as Error).name === 'TimeoutError' || /no response within|timed out/i.test(message);
              return { status: timedOut ? 504 : 500, body: { error: message } };
            }
          },
        });
      },
      stop() {
        unregister?.();
        unregister = undefined;
      },
    };
  },
});
