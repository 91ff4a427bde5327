/** MQTT publish: QoS 0, 1 or 2, retained or not; with QoS 1/2 done when the broker acknowledged it. */
import { defineNode, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { encodeBody } from '../shared/payload.ts';
import { livePublisher, mqttError, mqttPublisherHandle, type MqttFields } from './connect.ts';
import { mqttCredential } from './credential.ts';

export interface MqttPublishProps {
  topic: string;
  qos: 0 | 1 | 2;
  retain: boolean;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    topic: { title: 'Topic', type: 'string', default: '', description: 'Empty: msg.topic. No wildcards (+, #).' },
    qos: { title: 'QoS', enum: [0, 1, 2], default: 1, description: '0: at most once (no acknowledgement). 1: at least once. 2: exactly once (between this node and the broker).' },
    retain: { title: 'Retain', type: 'boolean', default: false, description: 'The broker keeps the last retained message of the topic for new subscribers.' },
  },
} as const satisfies JsonSchema;

const help = `# MQTT publish

Publishes \`msg.payload\` to a topic (the one set here, or \`msg.topic\`). Objects are sent as JSON, text as UTF-8,
bytes as they are, a blob reference as the blob's bytes. \`msg.qos\` and \`msg.retain\` are not read: set them here.

With QoS 1 or 2 the node finishes when the broker has acknowledged the message (PUBACK / PUBCOMP), so a failed
publish fails the invocation and is retried per the node's retry settings. QoS 0 is sent and forgotten.

Output: the input message with \`msg.mqtt = { topic, qos, retain }\`.`;

export const mqttPublishNode = defineNode<MqttPublishProps>({
  type: 'mqtt-publish',
  category: 'connector',
  label: 'MQTT publish',
  icon: 'sensors',
  color: '#660066',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: mqttCredential.name, schema: mqttCredential.schema, required: true },
  usableAsTool: true,
  help,
  create(init) {
    const credential = init.credential as NodeCredential<MqttFields> | undefined;
    if (!credential) throw new Error('needs an mqtt credential');
    const handle = mqttPublisherHandle(init.services, credential, init.log);
    const { qos, retain } = init.props;
    return {
      async onInput(msg) {
        const topic = init.props.topic || (typeof msg.topic === 'string' ? msg.topic : '');
        const operation = `publish to "${topic}" (QoS ${qos})`;
        if (!topic) throw mqttError(credential.fields, operation, new Error('no topic: set one on the node or in msg.topic'));
        if (/[+#]/.test(topic)) throw mqttError(credential.fields, operation, new Error('a topic to publish to cannot contain the wildcards + or #'));
        const { body } = await encodeBody(msg.payload, init.services.blobs);
        try {
          const connection = await livePublisher(handle);
          await connection.client.publishAsync(topic, body, { qos, retain });
        } catch (error) {
          throw mqttError(credential.fields, operation, error);
        }
        return { ...msg, mqtt: { topic, qos, retain } };
      },
      close() {
        handle.release();
      },
    };
  },
});
