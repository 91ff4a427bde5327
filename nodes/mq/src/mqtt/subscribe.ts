/**
 * The MQTT subscribe trigger: a run per message. For QoS 1 and 2 the PUBACK/PUBREC is sent only after the run is
 * committed (mqtt.js `customHandleAcks`, MQTT 5); a message whose run cannot be stored is not acknowledged: the
 * client disconnects and the broker sends it again on the next connection (persistent session); after N deliveries
 * it goes to a dead-letter topic.
 */
import { createHash } from 'node:crypto';
import type { IClientOptions, IPublishPacket } from 'mqtt';
import { defineNode, deliver, DeliveryCounter, PooledResource, type NodeCredential, type TriggerContext } from '@flowcrew/sdk';
import { Backoff, redeliveryDelay } from '../shared/consumer.ts';
import { decodeBody } from '../shared/payload.ts';
import { closeMqtt, describeMqtt, livePublisher, mqttError, mqttPublisherHandle, openMqtt, type MqttConnection, type MqttFields } from './connect.ts';
import { mqttCredential } from './credential.ts';
import { subscribeHelp, subscribeProps, type MqttSubscribeProps } from './subscribe-props.ts';

type AckDone = Parameters<NonNullable<IClientOptions['customHandleAcks']>>[3];

export const mqttSubscribeNode = defineNode<MqttSubscribeProps>({
  type: 'mqtt-subscribe',
  category: 'trigger',
  label: 'MQTT subscribe',
  icon: 'sensors',
  color: '#660066',
  inputs: 0,
  outputs: 1,
  props: subscribeProps,
  credentials: { type: mqttCredential.name, schema: mqttCredential.schema, required: true },
  help: subscribeHelp,
  create(init) {
    const credential = init.credential as NodeCredential<MqttFields> | undefined;
    if (!credential) throw new Error('needs an mqtt credential');
    const p = init.props;
    const services = init.services;
    const clientId = p.clientId || `flowcrew-${init.flowId}-${init.id}`.slice(0, 64);
    const counter = new DeliveryCounter();
    const deadLetters = mqttPublisherHandle(services, credential, init.log);
    let trigger: TriggerContext | undefined;
    let stopped = true;
    const backoff = new Backoff();
    /** QoS 0 messages: runs started one after the other (nothing to acknowledge). */
    let queue: Promise<unknown> = Promise.resolve();
    let inFlight: Promise<unknown> = Promise.resolve();

    /** After a message was not accepted: wait this long before reconnecting (grows with its deliveries). */
    let nackWait: number | undefined;
    const session = new PooledResource<MqttConnection>(
      services.resources,
      `mq:mqtt:subscribe:${init.flowId}:${init.id}`,
      async () => {
        // A message can arrive before connect() has the lease: `drop` then closes the client as soon as it exists.
        const ref: { connection?: MqttConnection; dropped?: boolean } = {};
        const drop = () => {
          ref.dropped = true;
          ref.connection?.client.end(true);
        };
        const customHandleAcks = (topic: string, message: Buffer, packet: unknown, done: AckDone) => void onReliable(topic, message, packet as IPublishPacket, done, drop);
        ref.connection = await openMqtt(credential.fields, services, { clientId, sessionExpirySeconds: p.sessionExpirySeconds, customHandleAcks }, init.log);
        if (ref.dropped) ref.connection.client.end(true);
        return ref.connection;
      },
      (c) => closeMqtt(c, true),
      { credential },
    );

    const toMsg = async (topic: string, body: Buffer, packet: IPublishPacket, deliveries: number) => ({
      payload: await decodeBody(body, p.payloadAs, services.blobs),
      topic,
      qos: packet.qos,
      retain: packet.retain,
      mqtt: { topic, qos: packet.qos, retain: packet.retain, dup: packet.dup, deliveries, userProperties: packet.properties?.userProperties ?? {} },
    });

    /** QoS 1/2: mqtt.js reads no further packet until `done` is called, so messages are taken one at a time, in order. */
    const onReliable = async (topic: string, body: Buffer, packet: IPublishPacket, done: AckDone, drop: () => void) => {
      // A resent message keeps its packet id (MQTT resends in-flight messages with the same one): id + topic + content.
      const key = `${packet.messageId ?? ''}\0${topic}\0${createHash('sha1').update(body).digest('hex')}`;
      if (!packet.dup) counter.settled(key);
      const deliveries = counter.delivered(key);
      let refused: Error | undefined;
      const msg = await toMsg(topic, body, packet, deliveries).catch((error: Error) => {
        refused = error;
        return { topic, payload: undefined };
      });
      const work = deliver(
        { log: init.log, emit: (m, o) => (refused ? Promise.reject(refused) : trigger!.emit(m, o)) },
        {
          msg,
          deliveries,
          ack: () => done(null as unknown as Error, 0),
          async nack(error) {
            // Not acknowledged: drop the connection; the broker sends the message again when the session resumes.
            init.log.warn(`message on "${topic}" not accepted (delivery ${deliveries}): ${error.message}; reconnecting to receive it again`);
            nackWait = redeliveryDelay(deliveries);
            drop();
          },
          async deadLetter(reason, count) {
            init.log.error(`message on "${topic}" dead-lettered: ${reason}`);
            if (!p.deadLetterTopic) return;
            // On the shared publisher: this client reads no PUBACK while the message is unacknowledged.
            const publisher = await livePublisher(deadLetters);
            await publisher.client
              .publishAsync(p.deadLetterTopic, body, {
                qos: 1,
                properties: { userProperties: { 'x-flowcrew-death-reason': reason, 'x-flowcrew-deliveries': String(count), 'x-flowcrew-topic': topic } },
              })
              .catch((error: unknown) => {
                throw mqttError(credential.fields, `dead-letter to "${p.deadLetterTopic}"`, error);
              });
          },
        },
        { maxDeliveries: p.maxDeliveries },
      ).then(
        (outcome) => {
          if (outcome.outcome !== 'redeliver') counter.settled(key);
        },
        (error: unknown) => init.log.warn(`message on "${topic}" left unacknowledged (it will be sent again): ${(error as Error).message}`),
      );
      inFlight = work;
      await work;
    };

    const onQos0 = (topic: string, body: Buffer, packet: IPublishPacket) => {
      if (packet.qos !== 0) return; // QoS 1/2 went through onReliable
      queue = queue.then(async () => {
        try {
          await trigger?.emit(await toMsg(topic, body, packet, 1));
        } catch (error) {
          init.log.error(`QoS 0 message on "${topic}" lost: ${(error as Error).message}`);
        }
      });
    };

    const reconnectLater = (why: string) => {
      if (stopped) return;
      init.status({ fill: 'red', shape: 'ring', text: 'reconnecting' });
      // A message not accepted: back after its redelivery wait (the broker resends it); a lost connection: backoff.
      if (nackWait !== undefined) backoff.retry(connect, nackWait);
      else init.log.warn(`MQTT ${describeMqtt(credential.fields)}: subscription to "${p.topic}" interrupted (${why}); reconnecting in ${backoff.retry(connect)}`);
      nackWait = undefined;
    };

    const connect = async (): Promise<void> => {
      if (stopped) return;
      try {
        const lease = await session.current();
        const connection = lease.value;
        const client = connection.client;
        client.removeAllListeners('message');
        client.on('message', onQos0);
        // Settles when the connection goes (a message was not accepted, the broker went away): reconnect then.
        const closed = new Promise<never>((_, reject) => {
          const onClose = () => {
            reject(new Error('connection closed'));
            if (stopped || lease.stale) return;
            session.discard();
            reconnectLater('connection closed');
          };
          if (connection.closed) onClose();
          else client.once('close', onClose);
        });
        closed.catch(() => undefined);
        lease.onStale(() => {
          if (!stopped) void connect(); // credential edited: subscribe again with the new fields
        });
        const granted = await Promise.race([client.subscribeAsync(p.topic, { qos: p.qos }), closed]);
        const refused = granted.find((g) => g.qos >= 0x80);
        if (refused) throw new Error(`the broker refused the subscription (reason code ${refused.qos})`);
        backoff.reset();
        init.status({ fill: 'green', shape: 'dot', text: `subscribed to ${p.topic}` });
      } catch (error) {
        if ((error as Error).message === 'connection closed') return; // the close handler reconnects
        init.status({ fill: 'red', shape: 'ring', text: 'cannot subscribe' });
        session.discard();
        init.log.warn(`${mqttError(credential.fields, `subscribe to "${p.topic}"`, error).message}; retrying in ${backoff.retry(connect)}`);
      }
    };

    const shutDown = async () => {
      stopped = true;
      backoff.cancel();
      await Promise.allSettled([inFlight, queue]);
      session.release();
      deadLetters.release();
    };

    return {
      async start(t) {
        trigger = t;
        stopped = false;
        await connect();
      },
      stop: shutDown,
      close: shutDown,
    };
  },
});
