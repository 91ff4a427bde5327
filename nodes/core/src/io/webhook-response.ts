/** webhook-response: Node-RED's "http response" node. Answers the request that started the run. */
import { defineNode } from '@flowcrew/sdk';
import { userHeaders } from './http-util.ts';

export interface WebhookResponseProps {
  /** Fixed status code; when set it wins over msg.statusCode (Node-RED). Node-RED stores it as a string. */
  statusCode?: number | string;
  /** Fixed headers; they win over msg.headers of the same name (Node-RED). */
  headers?: Record<string, string>;
}

export const webhookResponseNode = defineNode<WebhookResponseProps>({
  type: 'webhook-response',
  category: 'network',
  // ctx.reply answers the request whose handle the message carries, even when reached in another run (msg.res).
  role: { kind: 'http-response' },
  label: 'webhook response',
  icon: 'reply',
  color: '#e7e7ae',
  inputs: 1,
  outputs: 0,
  props: {
    type: 'object',
    properties: {
      statusCode: { title: 'Status code', type: ['integer', 'string'], pattern: '^\\d*$', description: 'Status code (overrides msg.statusCode)' },
      headers: { title: 'Headers', type: 'object', additionalProperties: { type: 'string' }, default: {}, description: 'Response headers (override msg.headers)' },
    },
  },
  help: `Sends the HTTP response for the request that started the run at a **webhook** node.

### Input
- \`msg.payload\`: the response body. Objects and arrays are sent as JSON, numbers as text.
- \`msg.statusCode\` (optional): the status code, used when the node has none configured.
- \`msg.headers\` (optional): extra headers. Headers copied unchanged from an **http-request** response are ignored,
  so a response's \`content-length\` or \`transfer-encoding\` does not leak into yours.

### Properties
- **statusCode**: a fixed status code. It takes precedence over \`msg.statusCode\`; default \`200\`.
- **headers**: fixed headers. They take precedence over \`msg.headers\` entries of the same name.

This follows Node-RED's http response node. A message that did not come from a webhook is logged as a warning and ignored.
`,
  create(init) {
    const fixedStatus = Number.parseInt(String(init.props.statusCode ?? ''), 10);
    const fixedHeaders = init.props.headers ?? {};

    return {
      onInput(msg, ctx) {
        if (msg._webhook !== true) {
          ctx.log.warn('no webhook request to respond to: the message did not come from a webhook node');
          return;
        }
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(fixedHeaders)) headers[name] = String(value);
        // Node-RED: msg.headers only fill in names the node does not set itself (exact-name match, as there).
        for (const [name, value] of Object.entries(userHeaders(msg.headers) ?? {})) {
          if (!(name in headers) && value !== undefined && value !== null) headers[name] = String(value);
        }
        const status = fixedStatus || Number.parseInt(String(msg.statusCode), 10) || 200;
        const body = typeof msg.payload === 'number' ? String(msg.payload) : msg.payload;
        ctx.reply({ status, headers, body });
      },
    };
  },
});
