/** Kafka produce: one record per message, or a batch (an array payload), with keys and headers; acks from all in-sync replicas. */
import { defineNode, getProperty, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { encodeBody, messageHeaders } from '../shared/payload.ts';
import { kafkaError, producerHandle, type KafkaFields } from './connect.ts';
import { kafkaCredential } from './credential.ts';

export interface KafkaProduceProps {
  topic: string;
  batch: boolean;
  keyFrom: string;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { title: 'Topic', type: 'string', default: '', description: 'Empty: msg.topic.' },
    batch: { title: 'Batch', type: 'boolean', default: false, description: 'msg.payload is an array: one record per item, sent in one request (each item may be { key, value, headers }).' },
    keyFrom: { title: 'Key from', type: 'string', default: 'key', description: 'The message property holding the record key (records with the same key go to the same partition, in order).' },
  },
} as const satisfies JsonSchema;

const help = `# Kafka produce

Sends \`msg.payload\` as a record to a topic (the one set here, or \`msg.topic\`), and finishes when every in-sync
replica has it (acks = all). The key is \`msg.key\` (see *Key from*), headers are \`msg.headers\`.

With **Batch** on, \`msg.payload\` is an array and each item becomes a record, all sent in one request; an item
\`{ key, value, headers }\` sets its own key and headers. Objects are sent as JSON, text as UTF-8.

Output: the input message with \`msg.kafka = { topic, records, offsets: [{ partition, offset }] }\`.`;

type Item = { key?: unknown; value?: unknown; headers?: Record<string, unknown> };
const isItem = (v: unknown): v is Item => typeof v === 'object' && v !== null && !Array.isArray(v) && 'value' in v;

export const kafkaProduceNode = defineNode<KafkaProduceProps>({
  type: 'kafka-produce',
  category: 'connector',
  label: 'Kafka produce',
  icon: 'send',
  color: '#231f20',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: kafkaCredential.name, schema: kafkaCredential.schema, required: true },
  usableAsTool: true,
  help,
  create(init) {
    const credential = init.credential as NodeCredential<KafkaFields> | undefined;
    if (!credential) throw new Error('needs a kafka credential');
    const handle = producerHandle(init.services, credential);
    const { batch, keyFrom } = init.props;
    const toKey = (key: unknown) => (key === undefined || key === null ? undefined : Buffer.from(typeof key === 'string' ? key : JSON.stringify(key)));
    const toHeaders = (h: Record<string, unknown>) => new Map(Object.entries(messageHeaders({ headers: h })).map(([k, v]) => [Buffer.from(k), Buffer.from(String(v))]));
    return {
      async onInput(msg) {
        const topic = init.props.topic || (typeof msg.topic === 'string' ? msg.topic : '');
        const operation = `produce to "${topic}"`;
        if (!topic) throw kafkaError(credential.fields, operation, new Error('no topic: set one on the node or in msg.topic'));
        if (batch && !Array.isArray(msg.payload)) throw kafkaError(credential.fields, operation, new Error('Batch is on but msg.payload is not an array'));
        const items: unknown[] = batch ? (msg.payload as unknown[]) : [msg.payload];
        const common = messageHeaders(msg);
        const messages = await Promise.all(
          items.map(async (item) => {
            const own = batch && isItem(item) ? item : undefined;
            const { body } = await encodeBody(own ? own.value : item, init.services.blobs);
            return { topic, key: toKey(own ? own.key : getProperty(msg, keyFrom)), value: body, headers: toHeaders({ ...common, ...(own?.headers ?? {}) }) };
          }),
        );
        try {
          const result = await handle.use((producer) => producer.send({ messages }));
          return { ...msg, kafka: { topic, records: messages.length, offsets: (result.offsets ?? []).map((o) => ({ partition: o.partition, offset: String(o.offset) })) } };
        } catch (error) {
          throw kafkaError(credential.fields, operation, error);
        }
      },
      close() {
        handle.release();
      },
    };
  },
});
