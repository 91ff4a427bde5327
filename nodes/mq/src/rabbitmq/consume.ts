/**
 * The RabbitMQ consume trigger: a run per message, acknowledged only after the run is committed (deliver()), the
 * number of unacknowledged messages bounded by the prefetch, a message that keeps failing dead-lettered.
 */
import { createHash } from 'node:crypto';
import type { Channel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { defineNode, deliver, DeliveryCounter, type JsonSchema, type NodeCredential, type TriggerContext } from '@flowcrew/sdk';
import { bodyFormatSchema, decodeBody, type BodyFormat } from '../shared/payload.ts';
import { Backoff, InFlight, redeliveryDelay } from '../shared/consumer.ts';
import { NodeChannel } from './channel.ts';
import { describeRabbit, rabbitError, rabbitHandle, type RabbitFields } from './connect.ts';
import { rabbitCredential } from './credential.ts';
import { consumeHelp } from './help.ts';

export interface RabbitConsumeProps {
  queue: string;
  declare: boolean;
  queueType: 'quorum' | 'classic';
  bindExchange?: string;
  bindingKey: string;
  prefetch: number;
  payloadAs: BodyFormat;
  maxDeliveries: number;
  deadLetterExchange: string;
  deadLetterRoutingKey: string;
}

const props = {
  type: 'object',
  required: ['queue'],
  additionalProperties: false,
  properties: {
    queue: { title: 'Queue', type: 'string', minLength: 1, maxLength: 255 },
    declare: { title: 'Create the queue', type: 'boolean', default: true, description: 'Declare the queue (durable) if it does not exist. Off: it must exist.' },
    queueType: { title: 'Queue type', enum: ['quorum', 'classic'], default: 'quorum', description: 'For a queue created here. Quorum queues are replicated and count deliveries themselves.' },
    bindExchange: { title: 'Bind to exchange', type: 'string', description: 'Also bind the queue to this exchange (which must exist).' },
    bindingKey: { title: 'Binding key', type: 'string', default: '#', description: 'The pattern of the binding (a topic pattern, a routing key, or ignored by fanout exchanges).' },
    prefetch: { title: 'Prefetch', type: 'integer', minimum: 1, maximum: 10_000, default: 10, description: 'Messages delivered and not yet acknowledged at most: how many runs start at once.' },
    payloadAs: bodyFormatSchema,
    maxDeliveries: { title: 'Dead-letter after (deliveries)', type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'A message whose run could not be started this many times goes to the dead-letter exchange.' },
    deadLetterExchange: {
      title: 'Dead-letter exchange',
      type: 'string',
      default: '',
      description: "Where dead messages are published (with the reason in header x-flowcrew-death-reason). Empty: rejected without requeue, so the queue's own dead-letter policy applies (or the broker drops it).",
    },
    deadLetterRoutingKey: { title: 'Dead-letter routing key', type: 'string', default: '', description: "Empty: the message's own routing key." },
  },
  allOf: [{ if: { properties: { declare: { const: true } } }, then: { properties: { queueType: {} } } }],
} as const satisfies JsonSchema;


export const rabbitConsumeNode = defineNode<RabbitConsumeProps>({
  type: 'rabbitmq-consume',
  category: 'trigger',
  label: 'RabbitMQ consume',
  icon: 'inbox',
  color: '#ff6600',
  inputs: 0,
  outputs: 1,
  props,
  credentials: { type: rabbitCredential.name, schema: rabbitCredential.schema, required: true },
  help: consumeHelp,
  create(init) {
    const credential = init.credential as NodeCredential<RabbitFields> | undefined;
    if (!credential) throw new Error('needs a rabbitmq credential');
    const p = init.props;
    const handle = rabbitHandle(init.services, credential, init.log);
    const counter = new DeliveryCounter();
    let trigger: TriggerContext | undefined;
    let stopped = true;
    const backoff = new Backoff();
    const inFlight = new InFlight();
    let unsubscribe = () => {};

    // Dead letters go out on a confirm channel of their own: the original is acked only once the broker has the copy.
    const deadChannel = new NodeChannel<ConfirmChannel>(handle, (c) => c.model.createConfirmChannel());
    const channel = new NodeChannel<Channel>(
      handle,
      async (connection) => {
        const ch = await connection.model.createChannel();
        try {
          if (p.declare) await ch.assertQueue(p.queue, { durable: true, arguments: { 'x-queue-type': p.queueType } });
          else await ch.checkQueue(p.queue);
          if (p.bindExchange) await ch.bindQueue(p.queue, p.bindExchange, p.bindingKey);
          await ch.prefetch(p.prefetch);
        } catch (error) {
          await ch.close().catch(() => undefined);
          throw error;
        }
        return ch;
      },
      () => reconnectLater('channel closed'),
    );

    const reconnectLater = (why: string) => {
      if (stopped) return;
      init.status({ fill: 'red', shape: 'ring', text: 'reconnecting' });
      init.log.warn(`RabbitMQ ${describeRabbit(credential.fields)}: consumer of "${p.queue}" stopped (${why}); reconnecting in ${backoff.retry(consume)}`);
    };

    // Classic queues keep no count: this process counts by message id AND content (an id alone is not unique when
    // publishers reuse one; identical content under one id is the same message for every purpose here).
    const deliveryKey = (m: ConsumeMessage) => `${m.properties.messageId ?? ''}:${createHash('sha1').update(m.fields.routingKey).update('\0').update(m.content).digest('hex')}`;

    const handleMessage = async (ch: Channel, m: ConsumeMessage) => {
      const key = deliveryKey(m);
      if (!m.fields.redelivered) counter.settled(key); // a first delivery starts the count again
      const quorumCount = m.properties.headers?.['x-delivery-count'];
      const deliveries = typeof quorumCount === 'number' ? quorumCount + 1 : counter.delivered(key);
      let settled = false;
      let payload: unknown;
      let refused: Error | undefined;
      try {
        payload = await decodeBody(m.content, p.payloadAs, init.services.blobs);
      } catch (error) {
        refused = error as Error;
      }
      const msg = {
        payload,
        topic: m.fields.routingKey,
        headers: { ...(m.properties.headers ?? {}) },
        rabbitmq: { exchange: m.fields.exchange, routingKey: m.fields.routingKey, queue: p.queue, messageId: m.properties.messageId, redelivered: m.fields.redelivered, deliveries, contentType: m.properties.contentType },
      };
      const emitter: Pick<TriggerContext, 'emit' | 'log'> = {
        log: init.log,
        emit: (message, options) => (refused ? Promise.reject(refused) : trigger!.emit(message, options)),
      };
      const outcome = await deliver(
        emitter,
        {
          msg,
          deliveries,
          ack() {
            if (!settled) ch.ack(m);
            settled = true;
          },
          async nack(error) {
            // Back off before giving it back: a store that is down would otherwise be hammered in a tight loop.
            const wait = redeliveryDelay(deliveries);
            init.log.warn(`message on "${p.queue}" not accepted (delivery ${deliveries}): ${error.message}; redelivered in ${wait} ms`);
            await new Promise((resolve) => setTimeout(resolve, wait));
            if (!settled) ch.nack(m, false, true);
            settled = true;
          },
          async deadLetter(reason, count) {
            init.log.error(`message on "${p.queue}" dead-lettered: ${reason}`);
            if (!p.deadLetterExchange) {
              ch.nack(m, false, false); // the queue's own dead-letter policy takes it (or the broker drops it)
              settled = true;
              return;
            }
            const dead = await deadChannel.get();
            const routingKey = p.deadLetterRoutingKey || m.fields.routingKey;
            await new Promise<void>((resolve, reject) =>
              dead.publish(
                p.deadLetterExchange,
                routingKey,
                m.content,
                {
                  ...m.properties,
                  persistent: true,
                  headers: { ...(m.properties.headers ?? {}), 'x-flowcrew-death-reason': reason, 'x-flowcrew-deliveries': count, 'x-flowcrew-queue': p.queue, 'x-flowcrew-flow': init.flowId },
                },
                (error: unknown) => (error ? reject(rabbitError(credential.fields, `dead-letter to exchange "${p.deadLetterExchange}"`, deadChannel.lastError ?? error)) : resolve()),
              ),
            );
          },
        },
        { maxDeliveries: p.maxDeliveries },
      );
      if (outcome.outcome !== 'redeliver') counter.settled(key);
    };

    const consume = async (): Promise<void> => {
      if (stopped) return;
      try {
        const ch = await channel.get();
        await ch.consume(p.queue, (m) => {
          if (!m) return reconnectLater('the broker cancelled the consumer (queue deleted?)');
          const work = handleMessage(ch, m).catch((error: unknown) => {
            // ack/nack/dead-letter failed: the channel is gone, and the broker redelivers the message.
            init.log.warn(`message on "${p.queue}" left unacknowledged (it will be redelivered): ${(error as Error).message}`);
          });
          inFlight.track(work);
        });
        backoff.reset();
        init.status({ fill: 'green', shape: 'dot', text: `consuming ${p.queue}` });
      } catch (error) {
        init.status({ fill: 'red', shape: 'ring', text: 'cannot consume' });
        const failure = rabbitError(credential.fields, `consume from queue "${p.queue}"`, channel.lastError ?? error);
        init.log.warn(`${failure.message}; retrying in ${backoff.retry(consume)}`);
      }
    };

    const shutDown = async () => {
      stopped = true;
      unsubscribe();
      backoff.cancel();
      // Runs being accepted finish (and are acked) first; unacked messages go back to the queue with the channel.
      await inFlight.drain();
      await channel.close();
      await deadChannel.close();
      handle.release();
    };

    // An edited credential: consume again on a connection opened with the new fields (the old one is closed).
    unsubscribe = credential.onChange(() => {
      if (!stopped) void channel.close().then(() => consume());
    });

    return {
      async start(t) {
        trigger = t;
        stopped = false;
        await consume();
      },
      stop: shutDown,
      close: shutDown,
    };
  },
});
