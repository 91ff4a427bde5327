/**
 * MQTT over TLS on the real mosquitto of `scripts/services` (its TLS listener, a server certificate signed by a CA
 * the service script made with openssl): the certificate checked against the CA and the host name, a message
 * published through the node arriving at a subscriber over TLS, and the failures a wrong trust set-up gives.
 */
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import { mqttCredential } from './credential.ts';
import { mqttPublishNode } from './publish.ts';
import { MQTT_TEST_CA, MQTT_TLS_PORT, mqttFields } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });
const ca = readFileSync(MQTT_TEST_CA, 'utf8');
const tlsFields = (overrides = {}) => mqttFields({ port: MQTT_TLS_PORT, tls: 'verify', ca, ...overrides });
const services = { outbound } as unknown as RuntimeServices;
const test = (fields: ReturnType<typeof tlsFields>) => mqttCredential.test!(fields, services, new AbortController().signal);

afterAll(async () => {
  await closeTestServices();
  await outbound.close();
});

describe('mqtt over TLS (mosquitto with a test CA)', () => {
  it('connects with the certificate checked against the CA, and publishes to a subscriber over TLS', async () => {
    expect(await test(tlsFields())).toEqual({ ok: true, message: `connected to the MQTT broker at flowcrew@127.0.0.1:${MQTT_TLS_PORT} (MQTT 5)` });
    const topic = `flowcrew/test/tls/${randomBytes(4).toString('hex')}`;
    const subscriber = await mqtt.connectAsync({ host: '127.0.0.1', port: MQTT_TLS_PORT, protocol: 'mqtts', ca, username: 'flowcrew', password: 'flowcrew', protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const got = new Promise<string>((resolve) => subscriber.on('message', (_t, payload) => resolve(payload.toString())));
      await subscriber.subscribeAsync(topic, { qos: 1 });
      const node = await createTestNode(mqttPublishNode, { topic, qos: 1 }, { credentials: tlsFields(), credential: { id: 'mqtt-tls' } });
      await node.input({ payload: { over: 'tls' } });
      expect(JSON.parse(await got)).toEqual({ over: 'tls' });
      await node.stop();
    } finally {
      await subscriber.endAsync();
    }
  });

  it('refuses a server whose certificate the configured trust does not cover, and plain MQTT on the TLS port', async () => {
    const noCa = await test(tlsFields({ ca: undefined }));
    expect(noCa).toMatchObject({ ok: false, message: expect.stringMatching(/127\.0\.0\.1:\d+: connect failed: .*self[- ]signed certificate/) });
    const noVerify = await test(tlsFields({ ca: undefined, tls: 'no-verify' }));
    expect(noVerify.ok).toBe(true); // asked for explicitly: encrypted, not authenticated
    const plain = await test(mqttFields({ port: MQTT_TLS_PORT }));
    expect(plain.ok).toBe(false);
  });
});
