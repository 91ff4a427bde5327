/** Test support for the NATS nodes: the nats-server of `scripts/services` (127.0.0.1:4222, JetStream, user flowcrew). */
import { connect } from '@nats-io/transport-node';
import type { NatsFields } from './connect.ts';

export const NATS_PORT = Number(process.env.FLOWCREW_NATS_PORT ?? 4222);
export const natsFields = (overrides: Partial<NatsFields> = {}): NatsFields => ({ host: '127.0.0.1', port: NATS_PORT, user: 'flowcrew', password: 'flowcrew', ...overrides });

/** A plain NATS connection of the test's own (not through any node). */
export async function adminNats() {
  try {
    return await connect({ servers: `127.0.0.1:${NATS_PORT}`, user: 'flowcrew', pass: 'flowcrew' });
  } catch (error) {
    throw new Error(`NATS test server not reachable (${(error as Error).message}): run bash scripts/services nats`);
  }
}
