/**
 * The NATS JetStream consume trigger: a durable pull consumer; a run per message, acknowledged (and the
 * acknowledgement confirmed) only after the run is committed; nak for redelivery; dead letter + term after N.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import { defineNode, deliver, type NodeCredential, type TriggerContext } from '@flowcrew/sdk';
import { decodeBody } from '../shared/payload.ts';
import { Backoff, InFlight, redeliveryDelay } from '../shared/consumer.ts';
import { describeNats, liveNats, natsError, natsHandle, type NatsFields } from './connect.ts';
import { natsCredential } from './credential.ts';
import { loadJetstream, loadNats } from '../shared/libs.ts';
import { consumeHelp, consumeProps, type NatsConsumeProps } from './consume-props.ts';


export const natsConsumeNode = defineNode<NatsConsumeProps>({
  type: 'nats-consume',
  category: 'trigger',
  label: 'NATS JetStream consume',
  icon: 'inbox',
  color: '#27aae1',
  inputs: 0,
  outputs: 1,
  props: consumeProps,
  credentials: { type: natsCredential.name, schema: natsCredential.schema, required: true },
  help: consumeHelp,
  create(init) {
    const credential = init.credential as NodeCredential<NatsFields> | undefined;
    if (!credential) throw new Error('needs a nats credential');
    const p = init.props;
    const durable = p.durable || `flowcrew-${init.flowId}-${init.id}`.replace(/[.*>\s/\\]/g, '_');
    const handle = natsHandle(init.services, credential, init.log);
    let trigger: TriggerContext | undefined;
    let stopped = true;
    let messages: ConsumerMessages | undefined;
    const backoff = new Backoff();
    const inFlight = new InFlight();

    const setUp = async () => {
      const { nc } = await liveNats(handle);
      const { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } = await loadJetstream();
      const jsm = await jetstreamManager(nc);
      if (p.createStream) {
        await jsm.streams.info(p.stream).catch(async (error: Error) => {
          if (!/not found/i.test(error.message)) throw error;
          await jsm.streams.add({ name: p.stream, subjects: p.streamSubjects.length ? p.streamSubjects : [`${p.stream}.>`] });
        });
      }
      const config = {
        ack_wait: p.ackWaitSeconds * 1e9,
        max_ack_pending: p.maxAckPending,
        ...(p.filterSubject ? { filter_subject: p.filterSubject } : {}),
      };
      const existing = await jsm.consumers.info(p.stream, durable).catch((error: Error) => {
        if (/not found/i.test(error.message)) return undefined;
        throw error;
      });
      if (existing) await jsm.consumers.update(p.stream, durable, config);
      // max_deliver unlimited: the trigger dead-letters at maxDeliveries itself (the server would drop silently).
      else await jsm.consumers.add(p.stream, { durable_name: durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_deliver: -1, ...config });
      return jetstream(nc).consumers.get(p.stream, durable);
    };

    /** Whether a stream captures the dead-letter subject (looked up once per connection). */
    const deadStreams = new WeakMap<NatsConnection, Promise<boolean>>();
    const deadLetterStream = (nc: NatsConnection) => {
      let found = deadStreams.get(nc);
      if (!found) {
        found = loadJetstream()
          .then(({ jetstreamManager }) => jetstreamManager(nc))
          .then((jsm) => jsm.streams.find(p.deadLetterSubject))
          .then(
            () => true,
            (error: Error) => {
              if (/no stream matches/i.test(error.message)) return false;
              deadStreams.delete(nc);
              throw error;
            },
          );
        deadStreams.set(nc, found);
      }
      return found;
    };

    const handleMessage = async (m: JsMsg) => {
      const deliveries = m.info.deliveryCount;
      let refused: Error | undefined;
      const payload = await decodeBody(Buffer.from(m.data), p.payloadAs, init.services.blobs).catch((error: Error) => {
        refused = error;
        return undefined;
      });
      const headers = Object.fromEntries([...(m.headers?.keys() ?? [])].map((k) => [k, m.headers!.get(k)]));
      const msg = { payload, topic: m.subject, headers, nats: { stream: m.info.stream, seq: m.seq, subject: m.subject, deliveries, redelivered: m.redelivered } };
      // Keep the message ours while its run is being stored (a slow commit must not look like a dead consumer).
      const keepAlive = setInterval(() => m.working(), Math.max(500, (p.ackWaitSeconds * 1000) / 2));
      let dead: string | undefined;
      try {
        await deliver(
          { log: init.log, emit: (message, options) => (refused ? Promise.reject(refused) : trigger!.emit(message, options)) },
          {
            msg,
            deliveries,
            async ack() {
              // No reason on the term: servers before 2.10 ignore a `+TERM <reason>` (the reason is in the dead letter).
              if (dead !== undefined) m.term();
              else await m.ackAck();
            },
            nack(error) {
              const wait = redeliveryDelay(deliveries);
              init.log.warn(`message ${m.info.stream}#${m.seq} on "${m.subject}" not accepted (delivery ${deliveries}): ${error.message}; redelivered in ${wait} ms`);
              m.nak(wait);
            },
            async deadLetter(reason, count) {
              init.log.error(`message ${m.info.stream}#${m.seq} on "${m.subject}" dead-lettered: ${reason}`);
              dead = reason;
              if (!p.deadLetterSubject) return;
              const h = (await loadNats()).headers();
              for (const [k, v] of Object.entries(headers)) h.set(k, v);
              h.set('X-Flowcrew-Death-Reason', reason);
              h.set('X-Flowcrew-Deliveries', String(count));
              h.set('X-Flowcrew-Stream', m.info.stream);
              h.set('X-Flowcrew-Subject', m.subject);
              const { nc } = await liveNats(handle);
              try {
                // Stored (and acknowledged) by the stream that captures the subject, else a plain publish.
                if (await deadLetterStream(nc)) await (await loadJetstream()).jetstream(nc).publish(p.deadLetterSubject, m.data, { headers: h, msgID: `dead-${m.info.stream}-${m.seq}` });
                else {
                  nc.publish(p.deadLetterSubject, m.data, { headers: h });
                  await nc.flush();
                }
              } catch (error) {
                throw natsError(credential.fields, `dead-letter to "${p.deadLetterSubject}"`, error);
              }
            },
          },
          { maxDeliveries: p.maxDeliveries },
        );
      } finally {
        clearInterval(keepAlive);
      }
    };

    const consume = async (): Promise<void> => {
      if (stopped) return;
      try {
        const consumer = await setUp();
        const iterator = await consumer.consume({ max_messages: p.maxAckPending });
        messages = iterator;
        backoff.reset();
        init.status({ fill: 'green', shape: 'dot', text: `consuming ${p.stream}` });
        void (async () => {
          try {
            for await (const m of iterator) {
              const work = handleMessage(m).catch((error: unknown) => init.log.warn(`message ${p.stream}#${m.seq} left unacknowledged (delivered again after the ack wait): ${(error as Error).message}`));
              inFlight.track(work);
            }
          } catch (error) {
            init.log.warn(`NATS ${describeNats(credential.fields)}: consuming "${p.stream}" stopped: ${(error as Error).message}`);
          }
          if (!stopped && messages === iterator) retryLater('the consumer ended');
        })();
      } catch (error) {
        init.status({ fill: 'red', shape: 'ring', text: 'cannot consume' });
        init.log.warn(`${natsError(credential.fields, `consume from stream "${p.stream}" (consumer "${durable}")`, error).message}; retrying in ${retryLater()}`);
      }
    };

    const retryLater = (why?: string): string => {
      if (stopped) return 'never (stopped)';
      if (why) init.status({ fill: 'red', shape: 'ring', text: 'reconnecting' });
      return backoff.retry(consume);
    };

    const stopConsuming = async () => {
      const iterator = messages;
      messages = undefined;
      await iterator?.close().catch(() => undefined);
    };

    const unsubscribe = credential.onChange(() => {
      if (!stopped) void stopConsuming().then(() => consume()); // consume again on a connection with the new fields
    });

    const shutDown = async () => {
      stopped = true;
      unsubscribe();
      backoff.cancel();
      await stopConsuming();
      await inFlight.drain();
      handle.release();
    };

    return {
      async start(t) {
        trigger = t;
        stopped = false;
        await consume();
      },
      stop: shutDown,
      close: shutDown,
    };
  },
});
