/** The Kafka consume trigger's form and help. */
import type { JsonSchema } from '@flowcrew/sdk';
import { bodyFormatSchema, type BodyFormat } from '../shared/payload.ts';

export interface KafkaConsumeProps {
  topics: string[];
  groupId: string;
  fromBeginning: boolean;
  payloadAs: BodyFormat;
  maxDeliveries: number;
  deadLetterTopic: string;
}

export const consumeProps = {
  type: 'object',
  required: ['topics', 'groupId'],
  additionalProperties: false,
  properties: {
    topics: { title: 'Topics', type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    groupId: { title: 'Consumer group', type: 'string', minLength: 1, description: 'Consumers of one group share the partitions; the group remembers the committed offsets.' },
    fromBeginning: { title: 'From the beginning', type: 'boolean', default: true, description: 'For a group without committed offsets: start at the oldest record (off: only new ones).' },
    payloadAs: bodyFormatSchema,
    maxDeliveries: { title: 'Dead-letter after (attempts)', type: 'integer', minimum: 1, maximum: 1000, default: 5 },
    deadLetterTopic: { title: 'Dead-letter topic', type: 'string', default: '', description: 'Where dead records are produced (the reason in header x-flowcrew-death-reason). Empty: logged and skipped.' },
  },
} as const satisfies JsonSchema;

export const consumeHelp = `# Kafka consume

Starts a run for every record of the topics, as a member of a **consumer group**. A record's offset is
**committed only after its run is stored**: if the runtime stops before, the group starts again from the last
committed offset and the record is delivered again.

- Records are taken one at a time, in order (a partition never skips ahead of a record whose run is not stored).
- A record whose run cannot be stored is tried again (with a growing wait, the partition waits too); after
  *Dead-letter after* attempts it is produced to the **dead-letter topic** with the reason in the header
  \`x-flowcrew-death-reason\`, and its offset committed.
- A **poison record** (not JSON when *Payload as* is json) is dead-lettered at once.

\`msg.payload\` is the value, \`msg.key\` the key (text), \`msg.topic\` the topic, \`msg.headers\` the headers, and
\`msg.kafka\` has \`partition\`, \`offset\` (text: offsets are 64-bit) and \`timestamp\`.

A record delivered again after its run was stored (the runtime stopped between storing and committing) starts a
second run: topic, partition and offset identify it.`;
