/** Dapr publish: msg.payload to a topic of one of the sidecar's pub/sub components, as a CloudEvent. */
import { Buffer } from 'node:buffer';
import { defineNode, NodeInputError, type JsonSchema } from '@flowcrew/sdk';
import { daprHttp, seg } from './client.ts';
import { daprCredential } from './credential.ts';
import { encodePayload } from './payload.ts';

export interface DaprPublishProps {
  pubsub: string;
  topic: string;
  metadata: Record<string, string>;
}

const props = {
  type: 'object',
  required: ['pubsub'],
  additionalProperties: false,
  properties: {
    pubsub: { title: 'Pub/sub component', type: 'string', minLength: 1, default: 'pubsub', description: 'The name of a pub/sub component the sidecar loaded.' },
    topic: { title: 'Topic', type: 'string', default: '', description: 'Empty: msg.topic.' },
    metadata: {
      title: 'Metadata',
      type: 'object',
      additionalProperties: { type: 'string' },
      default: {},
      description: 'Passed to the component as metadata.<name> (e.g. ttlInSeconds).',
    },
  },
} as const satisfies JsonSchema;

const help = `# Dapr publish

Publishes \`msg.payload\` to a topic of a pub/sub component of the Dapr sidecar (\`POST /v1.0/publish\`), as a
CloudEvent: JSON stays JSON, a string is sent as text/plain, a Buffer as bytes. The CloudEvent id is the invocation's
idempotency key, so a subscriber sees the same id when a retried step publishes again and can drop the duplicate
(the dapr-subscribe trigger puts it in \`msg._msgid\`). \`msg.headers\` are not sent (Dapr has none).

Done when the sidecar accepted the message (the component stored it). Output \`msg.dapr = { pubsub, topic, id }\`.`;

export const daprPublishNode = defineNode<DaprPublishProps>({
  type: 'dapr-publish',
  category: 'connector',
  label: 'Dapr publish',
  icon: 'send',
  color: '#0d2192',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: daprCredential.name, schema: daprCredential.schema, required: true },
  usableAsTool: true,
  help,
  create(init) {
    const http = daprHttp(init.services.outbound, init.credential);
    const { pubsub, metadata } = init.props;
    const query = Object.entries(metadata ?? {})
      .map(([key, value]) => `metadata.${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join('&');
    return {
      async onInput(msg, ctx) {
        const topic = init.props.topic || (typeof msg.topic === 'string' ? msg.topic : '');
        if (!topic) throw new NodeInputError('dapr publish: the topic must be set (here or in msg.topic)');
        const { body, contentType } = encodePayload(msg.payload);
        const event: Record<string, unknown> = {
          specversion: '1.0',
          id: ctx.idempotencyKey,
          source: `flowcrew/${ctx.flowId}/${ctx.nodeId}`,
          type: 'com.flowcrew.message',
          datacontenttype: contentType,
        };
        if (typeof body === 'string') event.data = contentType === 'application/json' ? (JSON.parse(body) as unknown) : body;
        else event.data_base64 = Buffer.from(body).toString('base64');
        await http.request(`publish to ${pubsub}/${topic}`, 'POST', `/v1.0/publish/${seg(pubsub)}/${seg(topic)}${query ? `?${query}` : ''}`, {
          body: JSON.stringify(event),
          headers: { 'content-type': 'application/cloudevents+json' },
          signal: ctx.signal,
        });
        return { ...msg, dapr: { pubsub, topic, id: ctx.idempotencyKey } };
      },
    };
  },
});
