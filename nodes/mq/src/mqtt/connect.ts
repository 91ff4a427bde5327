/**
 * Connections to an MQTT broker (MQTT 5, mqtt.js), opened through the outbound guard. Publishers share one client
 * per credential revision (a pooled resource); each subscribe trigger has its own client, with a fixed client id and
 * a persistent session, so the broker keeps and redelivers what it did not acknowledge.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { PooledResource, type NodeCredential, type RuntimeServices } from '@flowcrew/sdk';
import { BrokerError } from '../shared/errors.ts';
import { loadMqtt } from '../shared/libs.ts';
import { guardedAddress, tlsOptions, type TlsMode } from '../shared/net.ts';

export interface MqttFields extends Record<string, unknown> {
  host: string;
  port?: number;
  user?: string;
  password?: string;
  tls?: TlsMode;
  ca?: string;
  keepaliveSeconds?: number;
}

export function describeMqtt(fields: MqttFields): string {
  return `${fields.user ? `${fields.user}@` : ''}${fields.host}:${fields.port ?? (fields.tls && fields.tls !== 'off' ? 8883 : 1883)}`;
}

export const mqttError = (fields: MqttFields, operation: string, cause: unknown) => new BrokerError('MQTT', describeMqtt(fields), operation, cause);

/** A client and whether its connection is gone (it never reconnects by itself: holders open a new one). */
export interface MqttConnection {
  client: MqttClient;
  closed: boolean;
}

export interface OpenOptions {
  clientId?: string;
  /** Keep the session (subscriptions and unacknowledged messages) this long after a disconnect, s (0: clean session). */
  sessionExpirySeconds?: number;
  /** Handles QoS 1/2 acknowledgements (MQTT 5): the PUBACK/PUBREC is sent when `done(0)` is called. */
  customHandleAcks?: IClientOptions['customHandleAcks'];
}

export async function openMqtt(fields: MqttFields, services: Pick<RuntimeServices, 'outbound'>, options: OpenOptions = {}, log?: { warn(message: string): void }): Promise<MqttConnection> {
  const secure = fields.tls !== undefined && fields.tls !== 'off';
  const port = fields.port ?? (secure ? 8883 : 1883);
  try {
    const { address, servername } = await guardedAddress(services.outbound, fields.host, port);
    const session = options.sessionExpirySeconds ?? 0;
    const client = await (await loadMqtt()).connectAsync({
      protocol: secure ? 'mqtts' : 'mqtt',
      host: address,
      port,
      protocolVersion: 5,
      ...(fields.user ? { username: fields.user, password: fields.password ?? '' } : {}),
      clientId: options.clientId ?? `flowcrew-${Math.random().toString(16).slice(2, 12)}`,
      clean: session === 0,
      ...(session > 0 ? { properties: { sessionExpiryInterval: session } } : {}),
      keepalive: fields.keepaliveSeconds ?? 30,
      connectTimeout: 10_000,
      reconnectPeriod: 0, // reconnecting is the holder's decision (a new client, from the pool)
      ...(options.customHandleAcks ? { customHandleAcks: options.customHandleAcks } : {}),
      ...tlsOptions(fields.tls, servername, fields.ca),
    });
    const connection: MqttConnection = { client, closed: false };
    // Without a listener an 'error' would crash the runtime.
    client.on('error', (error) => log?.warn(`MQTT ${describeMqtt(fields)}: ${error.message}`));
    client.on('close', () => (connection.closed = true));
    return connection;
  } catch (error) {
    throw mqttError(fields, 'connect', error);
  }
}

export async function closeMqtt(connection: MqttConnection, force = false): Promise<void> {
  await connection.client.endAsync(force).catch(() => undefined);
}

/** The shared publishing client of a credential, re-opened after an edit of the credential or a lost connection. */
export function mqttPublisherHandle(services: RuntimeServices, credential: NodeCredential, log?: { warn(message: string): void }): PooledResource<MqttConnection> {
  return new PooledResource<MqttConnection>(services.resources, 'mq:mqtt:publisher', async () => openMqtt(credential.fields as MqttFields, services, {}, log), (c) => closeMqtt(c), {
    credential,
    idleMs: 10_000,
    checkIntervalMs: 5_000,
    check: (c) => !c.closed,
  });
}

export async function livePublisher(handle: PooledResource<MqttConnection>): Promise<MqttConnection> {
  let lease = await handle.current();
  if (lease.value.closed) {
    handle.discard();
    lease = await handle.current();
  }
  return lease.value;
}
