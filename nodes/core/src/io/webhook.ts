/** webhook: Node-RED's "http in" node. An HTTP endpoint under /webhook that starts a run per request. */
import { defineNode, type FlowMessage, type TriggerReply, type WebhookRequest } from '@flowcrew/sdk';
import { webhookAuthCredential, webhookSecurity, webhookSecurityProps, type WebhookAuthCredential, type WebhookSecurityProps } from './webhook-auth.ts';

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'ALL'] as const;

export interface WebhookProps extends WebhookSecurityProps {
  /** Node-RED writes these in lower case; either case is accepted. */
  method?: (typeof WEBHOOK_METHODS)[number] | Lowercase<(typeof WEBHOOK_METHODS)[number]>;
  /** Path below /webhook, starting with '/'; `:name` segments become msg.req.params.name. */
  url: string;
  /** How long to wait for a webhook-response node before answering 504. */
  responseTimeoutMs?: number;
  /** Node-RED's name: the body is not parsed; msg.payload is its bytes, as base64 text. */
  skipBodyParsing?: boolean;
}

/** Node-RED puts the body on msg.payload for methods that carry one, and the query for GET. */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const webhookNode = defineNode<WebhookProps>({
  type: 'webhook',
  category: 'trigger',
  label: 'webhook',
  icon: 'webhook',
  color: '#e7e7ae',
  role: { kind: 'http-entry', methodProp: 'method', pathProp: 'url' },
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      method: { title: 'Method', description: 'HTTP method the webhook answers; ALL: any', type: 'string', enum: [...WEBHOOK_METHODS, ...WEBHOOK_METHODS.map((m) => m.toLowerCase())], default: 'POST' },
      url: { title: 'Path', type: 'string', pattern: '^/', minLength: 1, description: 'Starts with /, e.g. /orders/:id; the full address is <runtime address>/webhook/orders/:id (shown on the node and in its form)' },
      responseTimeoutMs: { title: 'Response timeout (ms)', type: 'integer', minimum: 1, default: 30000, description: 'How long the caller waits for a webhook-response node to answer' },
      skipBodyParsing: { title: 'Do not parse the body', type: 'boolean', default: false, description: 'msg.payload is the body as received (base64 text), whatever its Content-Type' },
      ...webhookSecurityProps,
    },
    required: ['url'],
  },
  credentials: webhookAuthCredential,
  help: `An HTTP endpoint: each request to \`/webhook<url>\` starts a run.

### Properties
- **method**: \`GET\`, \`POST\` (default), \`PUT\`, \`PATCH\`, \`DELETE\`, or \`ALL\` for any method.
- **url**: the path below \`/webhook\`, starting with \`/\`. Segments like \`:id\` are parameters (\`/orders/:id\`).
- **responseTimeoutMs**: when the flow has a **webhook-response** node, how long the caller waits for it (default 30000).
- **skipBodyParsing**: Node-RED's "do not parse the body": any Content-Type (or none) is taken, nothing is parsed, and
  \`msg.payload\` is the body's bytes as base64 text (Node-RED gives a Buffer; messages here are JSON); an empty
  body is \`""\`. The size limit and the auth checks (an HMAC is over these bytes) still apply.
- **auth**: who may call (default \`none\`: anyone who can reach the runtime). The secrets live in a **webhook-auth**
  credential attached to the node; a webhook whose mode lacks its secret does not deploy.
  - \`basic\`: HTTP Basic with the credential's \`username\` and \`password\`.
  - \`header\`: the header named by the credential's \`header\` (default \`Authorization\`) must carry its \`token\`
    (for \`Authorization\`, \`Bearer <token>\` is accepted too).
  - \`hmac\`: an HMAC-SHA256 signature with the credential's \`secret\`, by **hmac.scheme**:
    \`flowcrew\` (default) signs \`<timestamp>.<raw body>\` and sends \`X-Flowcrew-Signature: sha256=<hex>\` and
    \`X-Flowcrew-Timestamp: <unix seconds>\`; \`github\` matches GitHub's \`X-Hub-Signature-256\` (body only: GitHub sends
    no timestamp, so a replay is caught only while the signature is remembered, up to 24 h); \`slack\` matches Slack's
    \`v0:<timestamp>:<body>\` with \`X-Slack-Signature\` and \`X-Slack-Request-Timestamp\`. **hmac.signatureHeader** and
    **hmac.timestampHeader** rename the headers. Timestamps more than **hmac.toleranceSeconds** (default 300) from now
    are refused, and so is a signature already seen.

  Secrets are compared in constant time. A refused request gets \`401\` (which check failed is logged, not answered)
  and starts no run. The credential is read at deploy: after changing it, deploy the flow again.
- **accept**: the content types a request body may have (default \`application/json\`,
  \`application/x-www-form-urlencoded\`, \`text/plain\`; \`type/*\` allowed). Others get \`415\`. A body is parsed only as
  its declared type: JSON that does not parse is \`400\`. \`multipart/form-data\` is refused unless listed; listed, its
  fields become the payload and its files \`msg.req.files\` (\`{ field, filename, mimeType, size, data }\`, data in base64,
  at most 20 files). Compressed bodies (\`Content-Encoding\`) are refused.
- **maxBodySize**: the largest body for this webhook, e.g. \`64kb\` (\`413\` beyond); the runtime's
  \`FLOWCREW_BODY_LIMIT\` (default 1mb) is the ceiling.

### Output
- \`msg.payload\`: the request body for POST, PUT, PATCH and DELETE; the query string object for GET.
  With \`ALL\`, the actual request method decides.
- \`msg.req\`: \`{ method, path, params, query, headers }\` (and \`files\` for multipart).
  Text types arrive as a string, other declared binary types as a base64 string.

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
    const security = webhookSecurity(init.props, init.credentials as WebhookAuthCredential | undefined);
    const raw = init.props.skipBodyParsing === true;
    // The header that carried a verified password or token has done its job: it is not copied into the run record.
    const secretHeader = security.auth.type === 'basic' ? 'authorization' : security.auth.type === 'header' ? security.auth.header.toLowerCase() : undefined;
    let unregister: (() => void) | undefined;

    const toMessage = (request: WebhookRequest): FlowMessage => {
      const effective = method === 'ALL' ? request.method.toUpperCase() : method;
      let headers = request.headers;
      if (secretHeader && secretHeader in headers) {
        headers = { ...headers };
        delete headers[secretHeader];
      }
      const body = raw ? (request.rawBody ?? Buffer.alloc(0)).toString('base64') : request.body;
      return {
        payload: BODY_METHODS.has(effective) ? body : request.query,
        req: { method: request.method, path: request.path, params: request.params, query: request.query, headers, ...(request.files ? { files: request.files } : {}) },
        _webhook: true,
      };
    };

    return {
      start(trigger) {
        unregister = init.services.registerWebhook({
          method,
          path,
          ...security,
          ...(raw ? { raw } : {}),
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
