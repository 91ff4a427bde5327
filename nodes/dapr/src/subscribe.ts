/**
 * Dapr subscribe: a trigger fed by a topic of one of the sidecar's pub/sub components, through Dapr 1.14's streaming
 * subscription (gRPC SubscribeTopicEventsAlpha1). The subscription lives as long as the deployed trigger: no route on
 * Flowcrew's side, no restart of the sidecar to add one. Each event is answered only after its run is committed
 * (SUCCESS), given back when it could not be stored (RETRY: the component redelivers it), and after too many
 * deliveries published to the dead-letter topic by the trigger (with the reason) or dropped (DROP).
 */
import { DeliveryCounter, defineNode, deliver, type FlowMessage, type JsonSchema, type TriggerContext } from '@flowcrew/sdk';
import { Buffer } from 'node:buffer';
import { daprHttp, seg, type DaprFields } from './client.ts';
import { daprCredential } from './credential.ts';
import { extensionsOf, openGrpc, type EventStatus, type GrpcConnection, type StreamResponse, type SubscribeStream, type TopicEvent } from './grpc.ts';
import { decodeData } from './payload.ts';

export interface DaprSubscribeProps {
  pubsub: string;
  topic: string;
  deadLetterTopic: string;
  maxDeliveries: number;
  metadata: Record<string, string>;
}

const props = {
  type: 'object',
  required: ['pubsub', 'topic'],
  additionalProperties: false,
  properties: {
    pubsub: { title: 'Pub/sub component', type: 'string', minLength: 1, default: 'pubsub', description: 'The name of a pub/sub component the sidecar loaded.' },
    topic: { title: 'Topic', type: 'string', minLength: 1 },
    deadLetterTopic: { title: 'Dead-letter topic', type: 'string', default: '', description: 'A topic of the same component that gets an event delivered Max deliveries times without a run (empty: dropped).' },
    maxDeliveries: { title: 'Max deliveries', type: 'integer', minimum: 1, maximum: 1000, default: 5, description: 'An event delivered this often without a run accepted is dropped (dead-lettered).' },
    metadata: { title: 'Metadata', type: 'object', additionalProperties: { type: 'string' }, default: {}, description: "Subscription metadata for the component (e.g. Redis' consumerID)." },
  },
} as const satisfies JsonSchema;

const help = `# Dapr subscribe

Starts a run for every event on a topic of a pub/sub component of the Dapr sidecar. Subscribes through the sidecar's
streaming subscription (gRPC port of the credential), so Flowcrew needs no inbound route and flows can subscribe and
unsubscribe while the sidecar runs. One subscription per pub/sub component and topic per sidecar.

\`msg.payload\` is the event data (JSON parsed, text as a string, other types a Buffer), \`msg.topic\` the topic,
\`msg._msgid\` the CloudEvent id (the dapr-publish node sets it to its idempotency key), and
\`msg.dapr = { id, pubsub, topic, source, type, contentType, deliveries, extensions }\` (deliveries as counted by
this process; extensions: the CloudEvent's other attributes, e.g. traceparent).

The event is acknowledged once the run is committed; a run that could not be stored gives the event back (the
component redelivers it later), and after **Max deliveries** it is published to the **Dead-letter topic** (same
data and id, with the CloudEvent attributes \`flowcrewreason\`, \`flowcrewdeliveries\` and \`flowcrewtopic\`), or dropped
when none is set. An event that was being delivered when the flow was undeployed comes again after the component's
processingTimeout.`;

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

export const daprSubscribeNode = defineNode<DaprSubscribeProps>({
  type: 'dapr-subscribe',
  category: 'trigger',
  label: 'Dapr subscribe',
  icon: 'podcasts',
  color: '#0d2192',
  inputs: 0,
  outputs: 1,
  props,
  credentials: { type: daprCredential.name, schema: daprCredential.schema, required: true },
  help,
  create(init) {
    const credential = init.credential;
    if (!credential) throw new Error('needs a dapr credential (the sidecar address)');
    const { pubsub, topic, deadLetterTopic, maxDeliveries, metadata } = init.props;
    const http = daprHttp(init.services.outbound, credential);
    const where = `${pubsub}/${topic}`;
    const counter = new DeliveryCounter();
    const inFlight = new Set<Promise<unknown>>();
    let stopped = true;
    let connection: GrpcConnection | undefined;
    let call: SubscribeStream | undefined;
    let ended: Promise<void> = Promise.resolve();
    let retryTimer: NodeJS.Timeout | undefined;
    let backoff = RECONNECT_MIN_MS;

    /** The event to the dead-letter topic, with why and how often it was delivered (CloudEvent extensions). */
    async function deadLetter(event: TopicEvent, reason: string, deliveries: number): Promise<void> {
      const dead = {
        specversion: '1.0',
        id: event.id,
        source: event.source,
        type: event.type,
        datacontenttype: event.dataContentType || 'application/octet-stream',
        data_base64: Buffer.from(event.data).toString('base64'),
        flowcrewreason: reason,
        flowcrewdeliveries: String(deliveries),
        flowcrewtopic: event.topic,
      };
      await http.request(`dead-letter ${event.id} to ${pubsub}/${deadLetterTopic}`, 'POST', `/v1.0/publish/${seg(pubsub)}/${seg(deadLetterTopic)}`, {
        body: JSON.stringify(dead),
        headers: { 'content-type': 'application/cloudevents+json' },
      });
    }

    async function handle(trigger: TriggerContext, stream: SubscribeStream, event: TopicEvent): Promise<void> {
      let answered = false;
      const answer = (status: EventStatus) => {
        if (answered || stream.writableEnded || stream.destroyed) return;
        answered = true;
        stream.write({ eventProcessed: { id: event.id, status: { status } } });
      };
      const deliveries = counter.delivered(event.id);
      const drop = async (reason: string) => {
        if (deadLetterTopic) await deadLetter(event, reason, deliveries);
        trigger.log.error(`dapr subscribe ${where}: event ${event.id} ${deadLetterTopic ? `moved to ${deadLetterTopic}` : 'dropped'}: ${reason}`);
        counter.settled(event.id);
        answer(deadLetterTopic ? 'SUCCESS' : 'DROP');
      };
      try {
        let payload: unknown;
        try {
          payload = decodeData(event.data, event.dataContentType);
        } catch (error) {
          return await drop(`its data is not ${event.dataContentType} (${(error as Error).message})`);
        }
        const msg: FlowMessage = {
          payload,
          topic: event.topic,
          _msgid: event.id,
          dapr: { id: event.id, pubsub: event.pubsubName, topic: event.topic, source: event.source, type: event.type, contentType: event.dataContentType, deliveries, extensions: extensionsOf(event) },
        };
        const outcome = await deliver(
          trigger,
          {
            msg,
            deliveries,
            ack: () => answer('SUCCESS'),
            nack: (error) => {
              trigger.log.warn(`dapr subscribe ${where}: event ${event.id} given back for redelivery: ${error.message}`);
              answer('RETRY');
            },
            deadLetter: (reason) => drop(reason),
          },
          { maxDeliveries },
        );
        if (outcome.outcome === 'accepted') counter.settled(event.id);
      } catch (error) {
        // The dead-letter publish failed (the sidecar is going away): give the event back, it comes again.
        trigger.log.error(`dapr subscribe ${where}: event ${event.id}: ${(error as Error).message}`);
        answer('RETRY');
      }
    }

    function retryLater(trigger: TriggerContext) {
      if (stopped || retryTimer) return;
      retryTimer = setTimeout(() => {
        retryTimer = undefined;
        void subscribe(trigger);
      }, backoff);
      backoff = Math.min(backoff * 2, RECONNECT_MAX_MS);
    }

    /** Opens the stream; resolves when daprd confirmed the subscription or the attempt failed (then retried later). */
    function subscribe(trigger: TriggerContext): Promise<void> {
      return new Promise<void>((resolve) => {
        openGrpc(credential!.fields as DaprFields, init.services.outbound).then(
          (opened) => {
            if (stopped) {
              opened.close();
              return resolve();
            }
            connection = opened;
            const stream = opened.client.SubscribeTopicEventsAlpha1(opened.metadata());
            call = stream;
            ended = new Promise<void>((closed) => {
              // 'status' comes once, at the end, whatever ended the call; 'error' too when it was not OK.
              stream.on('status', (status: { code: number; details: string }) => {
                if (call === stream) call = undefined;
                opened.close();
                if (!stopped) {
                  const reason = status.details || `gRPC status ${status.code}`;
                  init.status({ fill: 'red', shape: 'ring', text: 'disconnected' });
                  trigger.log.warn(`dapr subscribe ${where}: the subscription ended (${reason}); subscribing again`);
                  retryLater(trigger);
                }
                resolve();
                closed();
              });
            });
            stream.on('error', () => undefined); // reported by 'status'
            stream.on('data', (response: StreamResponse) => {
              if (response.initialResponse) {
                backoff = RECONNECT_MIN_MS;
                init.status({ fill: 'green', shape: 'dot', text: `subscribed to ${topic}` });
                resolve();
              } else if (response.eventMessage) {
                const done = handle(trigger, stream, response.eventMessage);
                inFlight.add(done);
                void done.finally(() => inFlight.delete(done));
              }
            });
            // No dead_letter_topic for daprd: it would dead-letter at the first RETRY. The trigger counts deliveries
            // and moves an event to the dead-letter topic itself, like the other consumers (sdk deliver()).
            stream.write({ initialRequest: { pubsubName: pubsub, topic, metadata } });
          },
          (error: unknown) => {
            init.status({ fill: 'red', shape: 'ring', text: 'no sidecar' });
            trigger.log.warn(`dapr subscribe ${where}: cannot reach the sidecar: ${(error as Error).message}; trying again`);
            retryLater(trigger);
            resolve();
          },
        );
      });
    }

    return {
      async start(trigger) {
        stopped = false;
        backoff = RECONNECT_MIN_MS;
        await subscribe(trigger);
      },
      async stop() {
        stopped = true;
        clearTimeout(retryTimer);
        retryTimer = undefined;
        // Answer what is being delivered, then end the stream so daprd drops the subscription before a redeploy
        // subscribes again (it allows one stream per topic).
        await Promise.allSettled([...inFlight]);
        const stream = call;
        if (stream) {
          stream.end();
          const timer = setTimeout(() => stream.cancel(), 5_000);
          await ended;
          clearTimeout(timer);
        }
        connection?.close();
        connection = undefined;
      },
    };
  },
});
