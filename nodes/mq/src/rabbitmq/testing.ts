/** Test support for the RabbitMQ nodes: the broker of `scripts/services` (127.0.0.1:5672, user flowcrew). */
import { randomBytes } from 'node:crypto';
import amqp from 'amqplib';
import type { RabbitFields } from './connect.ts';

export const RABBIT_PORT = Number(process.env.FLOWCREW_RABBITMQ_PORT ?? 5672);
export const rabbitFields = (overrides: Partial<RabbitFields> = {}): RabbitFields => ({ host: '127.0.0.1', port: RABBIT_PORT, user: 'flowcrew', password: 'flowcrew', ...overrides });
export const RABBIT_URL = `amqp://flowcrew:flowcrew@127.0.0.1:${RABBIT_PORT}`;

/** A unique name per test run, so test files never share queues. */
export const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString('hex')}`;

/** A plain amqplib connection of the test's own, for setting up and checking (not through any node). */
export async function adminConnection() {
  try {
    return await amqp.connect(RABBIT_URL);
  } catch (error) {
    throw new Error(`RabbitMQ test broker not reachable (${(error as Error).message}): run bash scripts/services rabbitmq`);
  }
}
