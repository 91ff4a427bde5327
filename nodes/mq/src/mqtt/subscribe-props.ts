/** The MQTT subscribe trigger's form and help. */
import type { JsonSchema } from '@flowcrew/sdk';
import { bodyFormatSchema, type BodyFormat } from '../shared/payload.ts';

export interface MqttSubscribeProps {
  topic: string;
  qos: 0 | 1 | 2;
  clientId?: string;
  sessionExpirySeconds: number;
  payloadAs: BodyFormat;
  maxDeliveries: number;
  deadLetterTopic: string;
}

export const subscribeProps = {
  type: 'object',
  required: ['topic'],
  additionalProperties: false,
  properties: {
    topic: { title: 'Topic filter', type: 'string', minLength: 1, description: 'A topic or a filter with wildcards: + for one level, # for the rest (sensors/+/temperature, plant/#).' },
    qos: { title: 'QoS', enum: [0, 1, 2], default: 1, description: '1 or 2: acknowledged only after the run is stored (nothing lost). 0: no acknowledgement (a message can be lost).' },
    clientId: { title: 'Client id', type: 'string', maxLength: 64, description: 'Identifies the session on the broker. Empty: flowcrew-<flow>-<node>. Must be unique on the broker.' },
    sessionExpirySeconds: {
      title: 'Keep session (s)',
      type: 'integer',
      minimum: 0,
      maximum: 4294967295,
      default: 86400,
      description: 'How long the broker keeps the subscription and queues messages while this trigger is not connected (0: forgets them at once).',
    },
    payloadAs: bodyFormatSchema,
    maxDeliveries: { title: 'Dead-letter after (deliveries)', type: 'integer', minimum: 1, maximum: 1000, default: 5 },
    deadLetterTopic: { title: 'Dead-letter topic', type: 'string', default: '', description: 'Where dead messages are published (QoS 1, the reason in user property x-flowcrew-death-reason). Empty: logged and dropped.' },
  },
} as const satisfies JsonSchema;

export const subscribeHelp = `# MQTT subscribe

Starts a run for every message published to a topic (wildcards allowed). MQTT 5.

- **QoS 1 and 2**: the acknowledgement (PUBACK, PUBREC) is sent only **after the run is stored**. If the runtime stops
  before that, the broker sends the message again when the trigger reconnects (the session is kept for *Keep
  session*). Messages are taken one at a time, in order.
- A message whose run cannot be stored is not acknowledged: the trigger reconnects and the broker sends it again.
  After *Dead-letter after* deliveries (counted by this process) it is published to the **dead-letter topic** with
  the reason in the user property \`x-flowcrew-death-reason\`, and acknowledged.
- A **poison message** (not JSON when *Payload as* is json) is dead-lettered at once.
- **QoS 0** messages are never acknowledged or sent again: one that arrives while runs cannot be stored is lost (logged).

\`msg.payload\` is the body, \`msg.topic\` the topic it was published to, \`msg.qos\`, \`msg.retain\`, and \`msg.mqtt\`
has \`dup\` (sent before), \`deliveries\` and the MQTT 5 \`userProperties\`.

While the flow is not deployed the broker keeps queueing for the session (up to its limits) and delivers on the next
deploy. A message sent again after its run was stored (the runtime stopped between storing and acknowledging)
starts a second run.`;
