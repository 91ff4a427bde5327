/** The `nats` credential type: the server, user/password or token, TLS; and its connection test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { tlsSchema } from '../shared/net.ts';
import { closeNats, describeNats, openNats, type NatsFields } from './connect.ts';

export const natsCredentialSchema = {
  type: 'object',
  required: ['host'],
  additionalProperties: false,
  properties: {
    host: { title: 'Host', type: 'string', minLength: 1, description: 'Server name or address. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
    port: { title: 'Port', type: 'integer', minimum: 1, maximum: 65535, default: 4222 },
    user: { title: 'User', type: 'string' },
    password: { title: 'Password', type: 'string', writeOnly: true, format: 'password' },
    token: { title: 'Token', type: 'string', writeOnly: true, description: 'Instead of user and password.' },
    ...tlsSchema,
  },
} as const satisfies JsonSchema;

export const natsCredential = defineCredentialType<NatsFields>({
  name: 'nats',
  label: 'NATS',
  description: 'A NATS server (JetStream for durable consumers) and how to authenticate. One connection per credential is shared by every node that uses it.',
  schema: natsCredentialSchema,
  secret: ['password', 'token'],
  async test(fields, services, signal) {
    try {
      const opening = openNats(fields, services);
      opening.then((h) => (signal.aborted ? closeNats(h) : undefined)).catch(() => undefined);
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('the test was cancelled')), { once: true }));
      const handle = await Promise.race([opening, aborted]);
      const info = handle.nc.info;
      await closeNats(handle);
      return { ok: true, message: `connected to NATS ${info?.version ?? ''} at ${describeNats(fields)}${info?.jetstream ? ' (JetStream on)' : ' (JetStream off)'}` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  },
});
