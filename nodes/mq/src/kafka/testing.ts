/** Test support for the Kafka nodes: the KRaft broker of `scripts/services kafka` (127.0.0.1:9092, no SASL). */
import { Admin } from '@platformatic/kafka';
import type { KafkaFields } from './connect.ts';

export const KAFKA_PORT = Number(process.env.FLOWCREW_KAFKA_PORT ?? 9092);
export const kafkaFields = (overrides: Partial<KafkaFields> = {}): KafkaFields => ({ brokers: [`127.0.0.1:${KAFKA_PORT}`], ...overrides });

/** An admin client of the test's own (not through any node). */
export function adminKafka(): Admin {
  return new Admin({ clientId: 'flowcrew-test-admin', bootstrapBrokers: [`127.0.0.1:${KAFKA_PORT}`] });
}
