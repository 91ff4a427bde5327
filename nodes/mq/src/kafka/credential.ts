/** The `kafka` credential type: bootstrap brokers, SASL, TLS; and its connection test (cluster metadata). */
import type { Admin } from '@platformatic/kafka';
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { tlsSchema } from '../shared/net.ts';
import { loadKafka } from '../shared/libs.ts';
import { checkAdvertisedBrokers, clientOptions, describeKafka, kafkaError, type KafkaFields } from './connect.ts';

export const kafkaCredentialSchema = {
  type: 'object',
  required: ['brokers'],
  additionalProperties: false,
  properties: {
    brokers: { title: 'Bootstrap brokers', type: 'array', minItems: 1, items: { type: 'string', pattern: '^\\[?[^\\s\\]]+\\]?:\\d+$' }, description: 'host:port of one or more brokers of the cluster.' },
    saslMechanism: { title: 'SASL', enum: ['none', 'PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'], default: 'none' },
    user: { title: 'User', type: 'string' },
    password: { title: 'Password', type: 'string', writeOnly: true, format: 'password' },
    ...tlsSchema,
    clientId: { title: 'Client id', type: 'string', default: 'flowcrew', description: 'Shown in the broker logs and quotas.' },
  },
} as const satisfies JsonSchema;

export const kafkaCredential = defineCredentialType<KafkaFields>({
  name: 'kafka',
  label: 'Apache Kafka',
  description: 'A Kafka cluster (its bootstrap brokers) and how to authenticate.',
  schema: kafkaCredentialSchema,
  secret: ['password'],
  async test(fields, services, signal) {
    let admin: Admin | undefined;
    try {
      admin = new (await loadKafka()).Admin({ ...(await clientOptions(fields, services)), retries: 0 });
      const onAbort = () => void admin?.close().catch(() => undefined);
      signal.addEventListener('abort', onAbort, { once: true });
      const metadata = await admin.metadata({ topics: [] });
      await checkAdvertisedBrokers(metadata.brokers.values(), services);
      signal.removeEventListener('abort', onAbort);
      return { ok: true, message: `connected to Kafka cluster ${metadata.id} at ${describeKafka(fields)} (${metadata.brokers.size} broker${metadata.brokers.size === 1 ? '' : 's'})` };
    } catch (error) {
      return { ok: false, message: kafkaError(fields, 'connection test', error).message };
    } finally {
      await admin?.close().catch(() => undefined);
    }
  },
});
