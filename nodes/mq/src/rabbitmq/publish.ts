/** RabbitMQ publish: one message per input, on a confirm channel, persistent by default; done when the broker confirmed it. */
import type { ConfirmChannel } from 'amqplib';
import { defineNode, type InputContext, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { encodeBody, messageHeaders } from '../shared/payload.ts';
import { NodeChannel } from './channel.ts';
import { rabbitError, rabbitHandle, type RabbitFields } from './connect.ts';
import { rabbitCredential } from './credential.ts';

export interface RabbitPublishProps {
  exchange: string;
  routingKey: string;
  persistent: boolean;
  contentType?: string;
  expirationMs?: number;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    exchange: { title: 'Exchange', type: 'string', default: '', description: 'The exchange to publish to. Empty: the default exchange, where the routing key is a queue name.' },
    routingKey: { title: 'Routing key', type: 'string', default: '', description: 'Empty: msg.topic.' },
    persistent: { title: 'Persistent', type: 'boolean', default: true, description: 'Stored on disk by the broker (on a durable queue it survives a broker restart).' },
    contentType: { title: 'Content type', type: 'string', description: 'Empty: application/json for objects, text/plain for text, application/octet-stream for bytes and blobs.' },
    expirationMs: { title: 'Expires after (ms)', type: 'integer', minimum: 1, description: 'Dropped (or dead-lettered) by the broker when not consumed in time. Empty: never.' },
  },
} as const satisfies JsonSchema;

const help = `# RabbitMQ publish

Publishes \`msg.payload\` to an exchange and finishes when the broker has **confirmed** it (publisher confirms): a
message the broker could not take fails the invocation, which is then retried per the node's retry settings.

- Objects are sent as JSON, text as UTF-8, bytes as they are, a blob reference as the blob's bytes.
- \`msg.headers\` become AMQP headers; the routing key is the one set here or \`msg.topic\`.
- The message id is the invocation's idempotency key, the same on a retry of the same step, so a consumer can
  drop duplicates.
- Persistent messages (the default) survive a broker restart on durable queues.

Output: the input message with \`msg.rabbitmq = { exchange, routingKey, messageId }\`.`;

export const rabbitPublishNode = defineNode<RabbitPublishProps>({
  type: 'rabbitmq-publish',
  category: 'connector',
  label: 'RabbitMQ publish',
  icon: 'send',
  color: '#ff6600',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: rabbitCredential.name, schema: rabbitCredential.schema, required: true },
  usableAsTool: true,
  help,
  create(init) {
    const credential = init.credential as NodeCredential<RabbitFields> | undefined;
    if (!credential) throw new Error('needs a rabbitmq credential');
    const handle = rabbitHandle(init.services, credential, init.log);
    const channel = new NodeChannel<ConfirmChannel>(handle, (c) => c.model.createConfirmChannel());
    const { exchange, persistent, contentType, expirationMs } = init.props;

    return {
      async onInput(msg, ctx: InputContext) {
        const routingKey = init.props.routingKey || (typeof msg.topic === 'string' ? msg.topic : '');
        const target = exchange ? `exchange "${exchange}" with routing key "${routingKey}"` : `queue "${routingKey}" (default exchange)`;
        const fields = credential.fields;
        const { body, contentType: detected } = await encodeBody(msg.payload, init.services.blobs);
        const messageId = ctx.idempotencyKey;
        let ch: ConfirmChannel;
        try {
          ch = await channel.get();
        } catch (error) {
          throw rabbitError(fields, `publish to ${target}`, error);
        }
        try {
          await new Promise<void>((resolve, reject) => {
            ch.publish(
              exchange,
              routingKey,
              body,
              {
                persistent,
                contentType: contentType || detected,
                headers: messageHeaders(msg),
                messageId,
                timestamp: Math.floor(Date.now() / 1000),
                ...(expirationMs ? { expiration: String(expirationMs) } : {}),
              },
              (error: unknown) => (error ? reject(error) : resolve()),
            );
          });
        } catch (error) {
          // A channel closed by the broker says why in its 'error' event, not in the confirm callback.
          throw rabbitError(fields, `publish to ${target}`, channel.lastError ?? error);
        }
        return { ...msg, rabbitmq: { exchange, routingKey, messageId } };
      },
      async close() {
        await channel.close();
        handle.release();
      },
    };
  },
});
