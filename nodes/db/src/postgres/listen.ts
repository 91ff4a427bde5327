/**
 * The PostgreSQL LISTEN trigger: a run per NOTIFY on a channel. The listening session is a dedicated connection (a
 * pooled one cannot keep a LISTEN), held as a pooled resource of this node: closed on undeploy, re-opened when the
 * credential changes, re-connected with backoff when it drops.
 */
import type pg from 'pg';
import { defineNode, PooledResource, type NodeCredential, type TriggerContext } from '@flowcrew/sdk';
import { clientConfig, describeServer, PostgresError, quoteIdent, type PostgresFields } from './connect.ts';
import { postgresCredential } from './credential.ts';
import { loadPg } from '../shared/libs.ts';

export interface ListenProps {
  channel: string;
  json: boolean;
}

const help = `# PostgreSQL listen

Starts a run for every \`NOTIFY\` on \`channel\` (\`SELECT pg_notify('orders', '{"id": 1}')\`). \`msg.payload\` is the
notification's text, parsed as JSON when \`json\` is on and it parses; \`msg.channel\` and \`msg.pid\` (the notifying
backend) are set too. The run is started (committed) before the next notification is taken.

PostgreSQL keeps no notification for a listener that is not connected: notifications sent while the connection is
down (it reconnects by itself, with backoff) are lost, so use LISTEN/NOTIFY to wake a flow up, and keep the work
itself in a table the flow reads. Editing the credential reconnects with the new one.`;

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 30_000;

export const postgresListenNode = defineNode<ListenProps>({
  type: 'postgres-listen',
  category: 'trigger',
  label: 'PostgreSQL listen',
  icon: 'notifications',
  color: '#336791',
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    required: ['channel'],
    additionalProperties: false,
    properties: {
      channel: { type: 'string', minLength: 1, maxLength: 63, description: 'The channel name (as in NOTIFY channel).' },
      json: { type: 'boolean', default: true, description: 'Parse payloads that are JSON.' },
    },
  },
  credentials: { type: postgresCredential.name, schema: postgresCredential.schema, required: true },
  help,
  create(init) {
    const credential = init.credential as NodeCredential<PostgresFields> | undefined;
    if (!credential) throw new Error('needs a postgres credential');
    const { channel, json } = init.props;
    const services = init.services;
    let trigger: TriggerContext | undefined;
    let stopped = true;
    let retryTimer: NodeJS.Timeout | undefined;
    let delay = RECONNECT_MIN_MS;
    /** Runs are started one after the other, in the order the notifications came. */
    let queue: Promise<unknown> = Promise.resolve();

    const session = new PooledResource<pg.Client>(
      services.resources,
      `db:postgres:listen:${init.flowId}:${init.id}`,
      async () => {
        const client = new (await loadPg()).Client(clientConfig(credential.fields, services.outbound));
        client.on('error', () => undefined); // until connect() attaches its own: an unheard error would crash the runtime
        try {
          await client.connect();
          await client.query(`LISTEN ${quoteIdent(channel)}`);
        } catch (error) {
          await client.end().catch(() => undefined);
          throw error;
        }
        return client;
      },
      (client) => client.end(),
      { credential },
    );

    const onNotification = (n: pg.Notification) => {
      let payload: unknown = n.payload ?? '';
      if (json && typeof payload === 'string') {
        try {
          payload = JSON.parse(payload);
        } catch {
          /* not JSON: the text as is */
        }
      }
      queue = queue.then(() =>
        trigger?.emit({ payload, topic: n.channel, channel: n.channel, pid: n.processId }).catch((error: unknown) => {
          // NOTIFY cannot be redelivered: say what was lost.
          init.log.error(`notification on "${n.channel}" lost: its run could not be stored: ${(error as Error).message}`);
        }),
      );
    };

    const connect = async (): Promise<void> => {
      if (stopped) return;
      try {
        const lease = await session.current();
        const client = lease.value;
        client.removeAllListeners('notification');
        client.on('notification', onNotification);
        let gone = false;
        const dropped = (why: string) => {
          if (gone || stopped || lease.stale) return;
          gone = true;
          init.status({ fill: 'red', shape: 'ring', text: 'reconnecting' });
          init.log.warn(`PostgreSQL ${describeServer(credential.fields)}: listening connection lost (${why}); reconnecting`);
          // The broken client is given back (and closed); the next connect opens a fresh one.
          session.discard();
          retryTimer = setTimeout(() => void connect(), delay);
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        };
        client.on('error', (error) => dropped(error.message)); // 'on': a second error must not go unheard (it would crash the runtime)
        client.once('end', () => dropped('closed'));
        lease.onStale(() => {
          if (!stopped) void connect(); // credential changed: listen again with the new one
        });
        delay = RECONNECT_MIN_MS;
        init.status({ fill: 'green', shape: 'dot', text: `listening on ${channel}` });
      } catch (error) {
        init.status({ fill: 'red', shape: 'ring', text: 'cannot connect' });
        init.log.warn(`${new PostgresError(describeServer(credential.fields), `LISTEN ${channel}`, error).message}; retrying in ${Math.round(delay / 1000)} s`);
        retryTimer = setTimeout(() => void connect(), delay);
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      }
    };

    return {
      async start(t) {
        trigger = t;
        stopped = false;
        await connect();
      },
      async stop() {
        stopped = true;
        clearTimeout(retryTimer);
        session.release();
        await queue;
      },
      close() {
        stopped = true;
        clearTimeout(retryTimer);
        session.release();
      },
    };
  },
});
