/** The `mqtt` credential type: the broker, the user, TLS; and its connection test. */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { tlsSchema } from '../shared/net.ts';
import { closeMqtt, describeMqtt, openMqtt, type MqttFields } from './connect.ts';

export const mqttCredentialSchema = {
  type: 'object',
  required: ['host'],
  additionalProperties: false,
  properties: {
    host: { title: 'Host', type: 'string', minLength: 1, description: 'Broker name or address. The outbound guard must allow it (FLOWCREW_OUTBOUND_ALLOW for private addresses).' },
    port: { title: 'Port', type: 'integer', minimum: 1, maximum: 65535, description: '1883 (8883 with TLS) when empty.' },
    user: { title: 'User', type: 'string' },
    password: { title: 'Password', type: 'string', writeOnly: true, format: 'password' },
    ...tlsSchema,
    keepaliveSeconds: { title: 'Keep-alive (s)', type: 'integer', minimum: 0, maximum: 65535, default: 30 },
  },
} as const satisfies JsonSchema;

export const mqttCredential = defineCredentialType<MqttFields>({
  name: 'mqtt',
  label: 'MQTT broker',
  description: 'An MQTT broker (MQTT 5) and the user to connect as. Publish nodes share one connection per credential; each subscribe trigger has its own session.',
  schema: mqttCredentialSchema,
  secret: ['password'],
  async test(fields, services, signal) {
    try {
      const opening = openMqtt(fields, services);
      opening.then((c) => (signal.aborted ? closeMqtt(c, true) : undefined)).catch(() => undefined);
      const aborted = new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('the test was cancelled')), { once: true }));
      const connection = await Promise.race([opening, aborted]);
      await closeMqtt(connection);
      return { ok: true, message: `connected to the MQTT broker at ${describeMqtt(fields)} (MQTT 5)` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  },
});
