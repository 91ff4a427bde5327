/**
 * The Kafka consume trigger: a consumer-group member that commits a record's offset only after its run is committed
 * (deliver()); failed records are retried in place, then dead-lettered to a topic.
 */
import type { Consumer, Message } from '@platformatic/kafka';
import { defineNode, deliver, PooledResource, type NodeCredential, type TriggerContext } from '@flowcrew/sdk';
import { decodeBody } from '../shared/payload.ts';
import { Backoff, redeliveryDelay } from '../shared/consumer.ts';
import { checkedClient, clientOptions, kafkaError, producerHandle, type KafkaFields } from './connect.ts';
import { kafkaCredential } from './credential.ts';
import { loadKafka } from '../shared/libs.ts';
import { consumeHelp, consumeProps, type KafkaConsumeProps } from './consume-props.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const kafkaConsumeNode = defineNode<KafkaConsumeProps>({
  type: 'kafka-consume',
  category: 'trigger',
  label: 'Kafka consume',
  icon: 'inbox',
  color: '#231f20',
  inputs: 0,
  outputs: 1,
  props: consumeProps,
  credentials: { type: kafkaCredential.name, schema: kafkaCredential.schema, required: true },
  help: consumeHelp,
  create(init) {
    const credential = init.credential as NodeCredential<KafkaFields> | undefined;
    if (!credential) throw new Error('needs a kafka credential');
    const p = init.props;
    const services = init.services;
    const deadLetters = producerHandle(services, credential);
    const member = new PooledResource<Consumer>(
      services.resources,
      `mq:kafka:consumer:${init.flowId}:${init.id}`,
      async () => checkedClient(new (await loadKafka()).Consumer({ ...(await clientOptions(credential.fields, services)), groupId: p.groupId, sessionTimeout: 6_000, heartbeatInterval: 500 }), services),
      (c) => c.close(true),
      { credential },
    );
    let trigger: TriggerContext | undefined;
    let stopped = true;
    const backoff = new Backoff();
    let loop: Promise<void> = Promise.resolve();
    let stream: { close(): Promise<void> } | undefined;

    const handleRecord = async (m: Message) => {
      let refused: Error | undefined;
      const headers = Object.fromEntries([...m.headers].map(([k, v]) => [k.toString(), v.toString()]));
      const payload = await decodeBody(m.value ?? Buffer.alloc(0), p.payloadAs, services.blobs).catch((error: Error) => {
        refused = error;
        return undefined;
      });
      const msg = { payload, key: m.key?.toString(), topic: m.topic, headers, kafka: { topic: m.topic, partition: m.partition, offset: String(m.offset), timestamp: String(m.timestamp) } };
      for (let deliveries = 1; !stopped; deliveries++) {
        const outcome = await deliver(
          { log: init.log, emit: (message, options) => (refused ? Promise.reject(refused) : trigger!.emit(message, options)) },
          {
            msg: { ...msg, kafka: { ...msg.kafka, deliveries } },
            deliveries,
            ack: async () => {
              await m.commit();
            },
            nack: async (error) => {
              const wait = redeliveryDelay(deliveries);
              init.log.warn(`record ${m.topic}[${m.partition}]@${m.offset} not accepted (attempt ${deliveries}): ${error.message}; trying again in ${wait} ms`);
              await sleep(wait);
            },
            deadLetter: async (reason, count) => {
              init.log.error(`record ${m.topic}[${m.partition}]@${m.offset} dead-lettered: ${reason}`);
              if (!p.deadLetterTopic) return;
              const dead = {
                topic: p.deadLetterTopic,
                key: m.key ?? undefined,
                value: m.value,
                headers: new Map([
                  ...m.headers,
                  [Buffer.from('x-flowcrew-death-reason'), Buffer.from(reason)],
                  [Buffer.from('x-flowcrew-deliveries'), Buffer.from(String(count))],
                  [Buffer.from('x-flowcrew-origin'), Buffer.from(`${m.topic}[${m.partition}]@${m.offset}`)],
                ]),
              };
              await deadLetters.use((producer) => producer.send({ messages: [dead] })).catch((error: unknown) => {
                throw kafkaError(credential.fields, `dead-letter to "${p.deadLetterTopic}"`, error);
              });
            },
          },
          { maxDeliveries: p.maxDeliveries },
        );
        if (outcome.outcome !== 'redeliver') return;
      }
    };

    const run = async (): Promise<void> => {
      while (!stopped) {
        try {
          const lease = await member.current();
          const messages = await lease.value.consume({ topics: p.topics, autocommit: false, mode: 'committed', fallbackMode: p.fromBeginning ? 'earliest' : 'latest' });
          stream = messages;
          backoff.reset();
          init.status({ fill: 'green', shape: 'dot', text: `consuming ${p.topics.join(', ')}` });
          for await (const m of messages) {
            if (stopped) break;
            await handleRecord(m as Message);
          }
          if (stopped) return;
          throw new Error('the consumer stream ended');
        } catch (error) {
          if (stopped) return;
          init.status({ fill: 'red', shape: 'ring', text: 'reconnecting' });
          const wait = backoff.next();
          init.log.warn(`${kafkaError(credential.fields, `consume ${p.topics.join(', ')} (group "${p.groupId}")`, error).message}; retrying in ${Math.round(wait / 100) / 10} s`);
          member.discard();
          await sleep(wait);
        }
      }
    };

    const shutDown = async () => {
      if (stopped) return;
      stopped = true;
      await stream?.close().catch(() => undefined);
      await loop;
      member.release();
      deadLetters.release();
    };

    return {
      async start(t) {
        trigger = t;
        stopped = false;
        loop = run();
      },
      stop: shutDown,
      close: shutDown,
    };
  },
});

