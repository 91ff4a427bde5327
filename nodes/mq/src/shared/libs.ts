/**
 * The pack's broker clients, imported on first use (see lazyImport in the SDK): importing the pack, which every
 * runtime start does, loads none of them. Elsewhere in the pack they are imported as types only.
 */
import { lazyImport } from '@flowcrew/sdk';

export const loadAmqp = lazyImport('amqplib', async () => (await import('amqplib')).default);
export const loadMqtt = lazyImport('mqtt', async () => (await import('mqtt')).default);
export const loadNats = lazyImport('@nats-io/transport-node', () => import('@nats-io/transport-node'));
export const loadJetstream = lazyImport('@nats-io/jetstream', () => import('@nats-io/jetstream'));
export const loadKafka = lazyImport('@platformatic/kafka', () => import('@platformatic/kafka'));
