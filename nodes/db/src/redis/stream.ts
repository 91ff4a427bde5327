/**
 * The Redis stream trigger: a run per stream entry, read with a consumer group (XREADGROUP), acknowledged (XACK)
 * only after the run is committed (the SDK's `deliver`). An entry whose run could not be stored stays pending and
 * is claimed again (XAUTOCLAIM) after `retryAfterMs`; after `maxDeliveries` it goes to a dead-letter stream with the
 * reason and is acknowledged. Entries left pending by a consumer that crashed are claimed the same way.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { defineNode, deliver, PooledResource, type NodeCredential, type TriggerContext } from '@flowcrew/sdk';
import { withDefaults } from '../shared/props.ts';
import { describeServer, openClient, RedisError, type RedisFields } from './connect.ts';
import { redisCredential } from './credential.ts';

export interface StreamProps {
  stream: string;
  group: string;
  consumer?: string;
  startFrom: 'new' | 'all';
  count: number;
  blockMs: number;
  maxDeliveries: number;
  retryAfterMs: number;
  deadLetterStream?: string;
  json: boolean;
}

const props = {
  type: 'object',
  required: ['stream', 'group'],
  additionalProperties: false,
  properties: {
    stream: { type: 'string', minLength: 1, title: 'Stream', description: 'The stream key.' },
    group: { type: 'string', minLength: 1, title: 'Consumer group', description: 'Created (with the stream) if missing. Consumers of one group share the entries.' },
    consumer: { type: 'string', minLength: 1, title: 'Consumer name', description: 'Default: this host and process, so runtimes sharing a group are distinct consumers.' },
    startFrom: { enum: ['new', 'all'], default: 'new', title: 'A new group starts at', description: 'new: entries added from now on. all: every entry in the stream.' },
    count: { type: 'integer', minimum: 1, maximum: 1000, default: 10, title: 'Entries per read' },
    blockMs: { type: 'integer', minimum: 100, maximum: 60_000, default: 2000, title: 'Wait for entries (ms)' },
    maxDeliveries: { type: 'integer', minimum: 1, maximum: 100, default: 5, title: 'Deliveries before dead letter' },
    retryAfterMs: { type: 'integer', minimum: 100, default: 30_000, title: 'Retry after (ms)', description: 'An entry not acknowledged this long (its run could not be stored, or its consumer died) is delivered again.' },
    deadLetterStream: { type: 'string', minLength: 1, title: 'Dead-letter stream', description: 'Default: the stream name with ":dead" appended. Entries there keep their fields plus _reason, _deliveries, _id.' },
    json: { type: 'boolean', default: true, title: 'JSON fields', description: 'Parse field values that are JSON.' },
  },
} as const;

const help = `# Redis stream

Starts a run for every entry of a Redis stream, as a member of a consumer group (created if missing).
\`msg.payload\` is the entry's fields as an object (JSON values parsed), \`msg._msgid\` and \`msg.id\` the entry id,
\`msg.stream\` the stream.

Delivery is **at least once**: an entry is acknowledged (XACK) only once its run is stored. If the run cannot be
stored, or the runtime crashes first, the entry stays pending and is delivered again after \`retryAfterMs\`; after
\`maxDeliveries\` deliveries it is moved to the dead-letter stream (\`<stream>:dead\` unless set) with the reason,
and acknowledged. A run that was stored and then fails is not redelivered: handle it in the flow (catch node).`;

export const redisStreamNode = defineNode<StreamProps>({
  type: 'redis-stream',
  category: 'trigger',
  label: 'Redis stream',
  icon: 'stream',
  color: '#d82c20',
  inputs: 0,
  outputs: 1,
  props,
  credentials: { type: redisCredential.name, schema: redisCredential.schema, required: true },
  help,
  create(init) {
    const credential = init.credential as NodeCredential<RedisFields> | undefined;
    if (!credential) throw new Error('needs a redis credential');
    const p = withDefaults<StreamProps>(props, init.props);
    const consumer = p.consumer ?? `${hostname()}-${process.pid}`;
    const dead = p.deadLetterStream ?? `${p.stream}:dead`;
    // A blocking XREADGROUP holds its connection: one of this node's own, not the shared command client.
    const session = new PooledResource<Redis>(
      init.services.resources,
      `db:redis:stream:${init.flowId}:${init.id}`,
      () => openClient(credential.fields, init.services, { blocking: true, name: `${credential.fields.connectionName ?? 'flowcrew-db'}-stream` }),
      (client) => client.disconnect(),
      { credential },
    );
    let stopped = true;
    let loop: Promise<void> | undefined;
    let wake: (() => void) | undefined;
    let delivering = false;

    const pause = (ms: number) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });

    const ensureGroup = async (redis: Redis) => {
      try {
        await redis.xgroup('CREATE', p.stream, p.group, p.startFrom === 'all' ? '0' : '$', 'MKSTREAM');
      } catch (error) {
        if (!/BUSYGROUP/.test((error as Error).message)) throw error;
      }
    };

    const toMessage = (id: string, fields: string[]) => {
      const payload: Record<string, unknown> = {};
      for (let i = 0; i + 1 < fields.length; i += 2) {
        const raw = fields[i + 1]!;
        let value: unknown = raw;
        if (p.json) {
          try {
            value = JSON.parse(raw);
          } catch {
            /* not JSON: the text */
          }
        }
        payload[fields[i]!] = value;
      }
      return { payload, _msgid: id, id, stream: p.stream, topic: p.stream };
    };

    /** Deliver entries one after the other (a stream is ordered); `counts` = deliveries per id, when known. */
    const handle = async (trigger: TriggerContext, redis: Redis, entries: Array<[string, string[]]>, counts: Map<string, number>) => {
      for (const [id, fields] of entries) {
        if (stopped) return;
        delivering = true;
        await deliver(
          trigger,
          {
            msg: toMessage(id, fields),
            deliveries: counts.get(id) ?? 1,
            ack: async () => void (await redis.xack(p.stream, p.group, id)),
            // Left pending: XAUTOCLAIM hands it to us again after retryAfterMs.
            nack: (error) => trigger.log.warn(`stream entry ${id} will be delivered again in ${p.retryAfterMs} ms: ${error.message}`),
            deadLetter: async (reason, deliveries) => {
              await redis.xadd(dead, '*', ...fields, '_reason', reason, '_deliveries', String(deliveries), '_id', id, '_stream', p.stream, '_group', p.group);
              trigger.log.error(`stream entry ${id} moved to ${dead}: ${reason}`);
            },
          },
          { maxDeliveries: p.maxDeliveries },
        ).finally(() => (delivering = false));
      }
    };

    const run = async (trigger: TriggerContext) => {
      let delay = 500;
      while (!stopped) {
        try {
          const lease = await session.current();
          const redis = lease.value;
          await ensureGroup(redis);
          init.status({ fill: 'green', shape: 'dot', text: `consuming ${p.stream}` });
          delay = 500;
          while (!stopped && !lease.stale) {
            // Entries pending longer than retryAfterMs (nacked, or their consumer died), with their delivery counts.
            const [, claimed] = (await redis.xautoclaim(p.stream, p.group, consumer, p.retryAfterMs, '0-0', 'COUNT', p.count)) as [string, Array<[string, string[]] | null>];
            const live = claimed.filter((e): e is [string, string[]] => e !== null);
            if (live.length > 0) {
              const pending = (await redis.xpending(p.stream, p.group, live[0]![0], live.at(-1)![0], live.length, consumer)) as Array<[string, string, number, number]>;
              await handle(trigger, redis, live, new Map(pending.map(([id, , , n]) => [id, n])));
              continue;
            }
            const read = (await redis.xreadgroup('GROUP', p.group, consumer, 'COUNT', p.count, 'BLOCK', p.blockMs, 'STREAMS', p.stream, '>')) as Array<[string, Array<[string, string[]]>]> | null;
            if (read) await handle(trigger, redis, read[0]![1], new Map());
          }
        } catch (error) {
          if (stopped) return;
          session.discard();
          init.status({ fill: 'red', shape: 'ring', text: 'reconnecting' });
          init.log.warn(`${new RedisError(describeServer(credential.fields), `XREADGROUP ${p.stream} (group ${p.group})`, error).message}; retrying in ${Math.round(delay / 100) / 10} s`);
          await pause(delay);
          delay = Math.min(delay * 2, 30_000);
        }
      }
    };

    return {
      async start(trigger) {
        stopped = false;
        loop = run(trigger);
      },
      async stop() {
        stopped = true;
        wake?.();
        // Closing the connection ends a blocked XREADGROUP at once; a delivery in progress finishes first (its
        // ack needs the connection), then the loop sees `stopped`.
        if (!delivering) session.release();
        await loop;
        session.release();
      },
      close() {
        stopped = true;
        wake?.();
        session.release();
      },
    };
  },
});
