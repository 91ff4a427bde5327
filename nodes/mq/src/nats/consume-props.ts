/** The NATS JetStream consume trigger's form and help. */
import type { JsonSchema } from '@flowcrew/sdk';
import { bodyFormatSchema, type BodyFormat } from '../shared/payload.ts';

export interface NatsConsumeProps {
  stream: string;
  createStream: boolean;
  streamSubjects: string[];
  durable?: string;
  filterSubject?: string;
  maxAckPending: number;
  ackWaitSeconds: number;
  payloadAs: BodyFormat;
  maxDeliveries: number;
  deadLetterSubject: string;
}

const name = { type: 'string', minLength: 1, maxLength: 200, pattern: '^[^.*>\\s/\\\\]+$' } as const;

export const consumeProps = {
  type: 'object',
  required: ['stream'],
  additionalProperties: false,
  properties: {
    stream: { ...name, title: 'Stream', description: 'The JetStream stream to consume from.' },
    createStream: { title: 'Create the stream', type: 'boolean', default: false, description: 'Create it (file storage) with the subjects below if it does not exist.' },
    streamSubjects: { title: 'Stream subjects', type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'For a stream created here: the subjects it captures (orders.>, events.*).' },
    durable: { ...name, title: 'Durable consumer name', description: 'The consumer on the server that remembers what was acknowledged. Empty: flowcrew-<flow>-<node>.' },
    filterSubject: { title: 'Only subjects', type: 'string', description: 'Consume only the stream messages on these subjects (wildcards allowed).' },
    maxAckPending: { title: 'Prefetch', type: 'integer', minimum: 1, maximum: 10_000, default: 10, description: 'Messages delivered and not yet acknowledged at most: how many runs start at once.' },
    ackWaitSeconds: {
      title: 'Ack wait (s)',
      type: 'integer',
      minimum: 1,
      maximum: 3600,
      default: 30,
      description: 'A message not acknowledged this long after delivery (the runtime died) is delivered again. Kept alive while its run is being stored.',
    },
    payloadAs: bodyFormatSchema,
    maxDeliveries: { title: 'Dead-letter after (deliveries)', type: 'integer', minimum: 1, maximum: 1000, default: 5 },
    deadLetterSubject: { title: 'Dead-letter subject', type: 'string', default: '', description: 'Where dead messages are published (the reason in header X-Flowcrew-Death-Reason). Empty: logged and terminated.' },
  },
  allOf: [{ if: { properties: { createStream: { const: true } }, required: ['createStream'] }, then: { properties: { streamSubjects: {} } } }],
} as const satisfies JsonSchema;

export const consumeHelp = `# NATS JetStream consume

Starts a run for every message of a JetStream stream, through a **durable consumer** that remembers what was
acknowledged. A message is **acknowledged only after its run is stored** (and the server confirms the
acknowledgement); if the runtime stops before, the server delivers it again after *Ack wait*.

- **Prefetch** bounds the messages delivered and not yet acknowledged.
- A message whose run cannot be stored is negatively acknowledged (\`nak\`, redelivered after a short wait). After
  *Dead-letter after* deliveries (the server's own count) it is published to the **dead-letter subject** with the
  reason in the header \`X-Flowcrew-Death-Reason\`, then terminated (\`term\`: never delivered again).
- A **poison message** (not JSON when *Payload as* is json) is dead-lettered at its first delivery.

\`msg.payload\` is the body, \`msg.topic\` the subject, \`msg.headers\` the NATS headers, and \`msg.nats\` has
\`stream\`, \`seq\` (the stream sequence, unique), \`deliveries\` and \`redelivered\`.

A message delivered again after its run was stored (the runtime stopped between storing and acknowledging) starts
a second run: \`msg.nats.seq\` identifies it.`;
