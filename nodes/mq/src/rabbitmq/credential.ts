/** The `rabbitmq` credential type: where the broker is, who to be, how to secure the connection; and its test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { tlsSchema } from '../shared/net.ts';
import { closeRabbit, describeRabbit, openRabbit, type RabbitFields } from './connect.ts';

export const rabbitCredentialSchema = {
  type: 'object',
  required: ['host', 'user'],
  additionalProperties: false,
  properties: {
    host: { title: 'Host', type: 'string', minLength: 1, description: 'Broker name or address. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
    port: { title: 'Port', type: 'integer', minimum: 1, maximum: 65535, description: '5672 (5671 with TLS) when empty.' },
    vhost: { title: 'Virtual host', type: 'string', default: '/' },
    user: { title: 'User', type: 'string', minLength: 1 },
    password: { title: 'Password', type: 'string', writeOnly: true, format: 'password' },
    ...tlsSchema,
    heartbeatSeconds: { title: 'Heartbeat (s)', type: 'integer', minimum: 0, maximum: 600, default: 30, description: 'How often both sides check the connection is alive (0: never).' },
  },
} as const satisfies JsonSchema;

export const rabbitCredential = defineCredentialType<RabbitFields>({
  name: 'rabbitmq',
  label: 'RabbitMQ',
  description: 'A RabbitMQ (AMQP 0-9-1) broker and the user to connect as. One connection per credential is shared by every node that uses it.',
  schema: rabbitCredentialSchema,
  secret: ['password'],
  async test(fields, services, signal) {
    let connection: Awaited<ReturnType<typeof openRabbit>> | undefined;
    const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('the test was cancelled')), { once: true }));
    try {
      const opening = openRabbit(fields, services);
      opening.then((c) => (signal.aborted ? closeRabbit(c) : undefined)).catch(() => undefined);
      connection = await Promise.race([opening, aborted]);
      const server = connection.model.connection.serverProperties;
      return { ok: true, message: `connected to ${server.product ?? 'RabbitMQ'} ${server.version ?? ''} at ${describeRabbit(fields)}`.replace('  ', ' ') };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    } finally {
      if (connection) await closeRabbit(connection);
    }
  },
});
