/** Test support for the MQTT nodes: the mosquitto broker of `scripts/services` (127.0.0.1:1883, user flowcrew). */
import mqtt from 'mqtt';
import type { MqttFields } from './connect.ts';

export const MQTT_PORT = Number(process.env.FLOWCREW_MOSQUITTO_PORT ?? 1883);
export const mqttFields = (overrides: Partial<MqttFields> = {}): MqttFields => ({ host: '127.0.0.1', port: MQTT_PORT, user: 'flowcrew', password: 'flowcrew', ...overrides });

/** The broker's TLS listener (scripts/services mosquitto: a certificate for localhost/127.0.0.1 from a CA made there). */
export const MQTT_TLS_PORT = Number(process.env.FLOWCREW_MOSQUITTO_TLS_PORT ?? 8883);
export const MQTT_TEST_CA = process.env.FLOWCREW_MOSQUITTO_CA ?? '/var/lib/flowcrew-mosquitto/tls/ca.pem';

/** A plain mqtt.js client of the test's own (not through any node). */
export async function adminClient(clientId?: string) {
  try {
    return await mqtt.connectAsync({ host: '127.0.0.1', port: MQTT_PORT, username: 'flowcrew', password: 'flowcrew', protocolVersion: 5, reconnectPeriod: 0, ...(clientId ? { clientId } : {}) });
  } catch (error) {
    throw new Error(`MQTT test broker not reachable (${(error as Error).message}): run bash scripts/services mosquitto`);
  }
}
