/** NATS publish: core publish (fire and forget), request/reply, or a JetStream publish acknowledged by the stream. */
import { defineNode, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { bodyFormatSchema, decodeBody, encodeBody, messageHeaders, type BodyFormat } from '../shared/payload.ts';
import { liveNats, natsError, natsHandle, type NatsFields } from './connect.ts';
import { natsCredential } from './credential.ts';
import { loadJetstream, loadNats } from '../shared/libs.ts';

export interface NatsPublishProps {
  subject: string;
  mode: 'jetstream' | 'core' | 'request';
  timeoutMs: number;
  replyAs: BodyFormat;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    subject: { title: 'Subject', type: 'string', default: '', description: 'Empty: msg.topic. No wildcards.' },
    mode: {
      title: 'Mode',
      enum: ['jetstream', 'core', 'request'],
      default: 'jetstream',
      description: 'jetstream: stored by the stream that captures the subject, done when it acknowledged (duplicates of a retried step are dropped). core: sent and forgotten. request: waits for one reply.',
    },
    timeoutMs: { title: 'Timeout (ms)', type: 'integer', minimum: 1, maximum: 600_000, default: 5000, description: 'How long to wait for the stream acknowledgement or the reply.' },
    replyAs: { ...bodyFormatSchema, title: 'Reply as', description: 'request: how the reply becomes msg.payload (see Payload as).' },
  },
  allOf: [{ if: { properties: { mode: { const: 'request' } }, required: ['mode'] }, then: { properties: { replyAs: {} } } }],
} as const satisfies JsonSchema;

const help = `# NATS publish

Sends \`msg.payload\` on a subject (the one set here, or \`msg.topic\`); \`msg.headers\` become NATS headers.

- **jetstream**: the stream capturing the subject stores the message and acknowledges it; the node fails when no
  stream does. The message id (\`Nats-Msg-Id\`) is the invocation's idempotency key, so a retried step that had
  published already is recognised as a duplicate by the stream. Output \`msg.nats = { stream, seq, duplicate }\`.
- **core**: sent and forgotten (only subscribers connected now receive it).
- **request**: waits up to the timeout for one reply, which becomes \`msg.payload\` (\`msg.nats.replyHeaders\` too).
  No subscriber: fails at once with "no responders".`;

export const natsPublishNode = defineNode<NatsPublishProps>({
  type: 'nats-publish',
  category: 'connector',
  label: 'NATS publish',
  icon: 'send',
  color: '#27aae1',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: natsCredential.name, schema: natsCredential.schema, required: true },
  usableAsTool: true,
  help,
  create(init) {
    const credential = init.credential as NodeCredential<NatsFields> | undefined;
    if (!credential) throw new Error('needs a nats credential');
    const handle = natsHandle(init.services, credential, init.log);
    const { mode, timeoutMs, replyAs } = init.props;
    return {
      async onInput(msg, ctx) {
        const subject = init.props.subject || (typeof msg.topic === 'string' ? msg.topic : '');
        const operation = `${mode === 'request' ? 'request on' : mode === 'jetstream' ? 'JetStream publish to' : 'publish to'} "${subject}"`;
        if (!subject || /[*>\s]/.test(subject)) throw natsError(credential.fields, operation, new Error('the subject must be set (here or in msg.topic) and have no wildcards or spaces'));
        const { body } = await encodeBody(msg.payload, init.services.blobs);
        const h = (await loadNats()).headers();
        for (const [key, value] of Object.entries(messageHeaders(msg))) h.set(key, String(value));
        try {
          const { nc } = await liveNats(handle);
          if (mode === 'core') {
            nc.publish(subject, body, { headers: h });
            await nc.flush(); // the server has it (not any subscriber)
            return { ...msg, nats: { subject } };
          }
          if (mode === 'request') {
            const reply = await nc.request(subject, body, { headers: h, timeout: timeoutMs });
            const replyHeaders = Object.fromEntries([...(reply.headers?.keys() ?? [])].map((k) => [k, reply.headers!.get(k)]));
            return { ...msg, payload: await decodeBody(Buffer.from(reply.data), replyAs, init.services.blobs), nats: { subject, replyHeaders } };
          }
          const ack = await (await loadJetstream()).jetstream(nc, { timeout: timeoutMs }).publish(subject, body, { headers: h, msgID: ctx.idempotencyKey });
          return { ...msg, nats: { subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate } };
        } catch (error) {
          throw natsError(credential.fields, operation, error);
        }
      },
      close() {
        handle.release();
      },
    };
  },
});
