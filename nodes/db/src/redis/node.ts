/** The Redis node: strings, counters, hashes, lists, publish and stream append, with TTLs; one command per message. */
import type { Redis } from 'ioredis';
import { defineNode, getProperty, NodeInputError, type FlowMessage, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { withDefaults } from '../shared/props.ts';
import { clientHandle, describeServer, RedisError, type RedisFields } from './connect.ts';
import { redisCredential } from './credential.ts';

const OPERATIONS = ['get', 'set', 'del', 'incr', 'expire', 'hget', 'hset', 'hgetall', 'hdel', 'lpush', 'rpush', 'lpop', 'rpop', 'lrange', 'publish', 'xadd'] as const;
type Operation = (typeof OPERATIONS)[number];

export interface RedisProps {
  operation: Operation;
  key?: string;
  keyFrom?: string;
  field?: string;
  fieldFrom?: string;
  channel?: string;
  valueFrom: string;
  ttlSeconds?: number;
  onlyIfAbsent: boolean;
  by: number;
  start: number;
  stop: number;
  json: boolean;
}

/** Operations that write a value taken from the message. */
const WRITES = ['set', 'hset', 'lpush', 'rpush', 'publish', 'xadd'];
const FIELD_OPS = ['hget', 'hdel'];
const TTL_OPS = ['set', 'incr', 'expire', 'hset', 'lpush', 'rpush'];

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: {
      enum: OPERATIONS,
      default: 'get',
      title: 'Operation',
      description: 'get/set/del: a string key. incr: add to a counter. expire: set a TTL. hget/hset/hgetall/hdel: a hash. lpush/rpush/lpop/rpop/lrange: a list. publish: a pub/sub channel. xadd: append to a stream.',
    },
    key: { type: 'string', minLength: 1, title: 'Key', description: 'The key (or stream). Leave empty to take it from the message (Key from).' },
    keyFrom: { type: 'string', minLength: 1, title: 'Key from', description: 'Message property holding the key, e.g. payload.userId (used when Key is empty).' },
    field: { type: 'string', minLength: 1, title: 'Hash field', description: 'hget/hdel (and hset of one field). hset without a field writes every property of the value.' },
    fieldFrom: { type: 'string', minLength: 1, title: 'Hash field from', description: 'Message property holding the field (used when Hash field is empty).' },
    channel: { type: 'string', minLength: 1, title: 'Channel' },
    valueFrom: { type: 'string', minLength: 1, default: 'payload', title: 'Value from', description: 'Message property with the value to write.' },
    ttlSeconds: { type: 'integer', minimum: 1, title: 'Expire after (s)', description: 'set: EX. incr: only when the counter is new (a rate window). expire/hset/push: the key expires after this.' },
    onlyIfAbsent: { type: 'boolean', default: false, title: 'Only if absent', description: 'set: NX (msg.payload says whether it was set).' },
    by: { type: 'integer', default: 1, title: 'Increment by' },
    start: { type: 'integer', default: 0, title: 'From index' },
    stop: { type: 'integer', default: -1, title: 'To index', description: '-1: the last element.' },
    json: { type: 'boolean', default: true, title: 'JSON values', description: 'Write objects as JSON and parse values that are JSON when reading.' },
  },
  allOf: [
    { if: { properties: { operation: { const: 'publish' } }, required: ['operation'] }, then: { required: ['channel'], properties: { channel: {}, valueFrom: {} } }, else: { anyOf: [{ required: ['key'] }, { required: ['keyFrom'] }], properties: { key: {}, keyFrom: {} } } },
    { if: { properties: { operation: { enum: WRITES } }, required: ['operation'] }, then: { properties: { valueFrom: {} } } },
    { if: { properties: { operation: { enum: ['hget', 'hset', 'hdel'] } }, required: ['operation'] }, then: { properties: { field: {}, fieldFrom: {} } } },
    { if: { properties: { operation: { enum: TTL_OPS } }, required: ['operation'] }, then: { properties: { ttlSeconds: {} } } },
    { if: { properties: { operation: { const: 'expire' } }, required: ['operation'] }, then: { required: ['ttlSeconds'] } },
    { if: { properties: { operation: { const: 'set' } }, required: ['operation'] }, then: { properties: { onlyIfAbsent: {} } } },
    { if: { properties: { operation: { const: 'incr' } }, required: ['operation'] }, then: { properties: { by: {} } } },
    { if: { properties: { operation: { const: 'lrange' } }, required: ['operation'] }, then: { properties: { start: {}, stop: {} } } },
  ],
} as const satisfies JsonSchema;

const help = `# Redis

One Redis command per message, with a **redis** credential. The result goes to \`msg.payload\`.

- **get** / **set** / **del**: a string key. \`set\` writes the value at \`valueFrom\` (objects as JSON), with
  \`ttlSeconds\` (EX) and \`onlyIfAbsent\` (NX: \`msg.payload\` is whether it was set).
- **incr**: adds \`by\` to a counter; with \`ttlSeconds\` the counter expires that long after it was created (a fixed
  rate window).
- **expire**: sets a TTL on a key.
- **hget** / **hset** / **hgetall** / **hdel**: a hash. \`hset\` without a field writes every property of the value.
- **lpush** / **rpush** / **lpop** / **rpop** / **lrange**: a list (an array value pushes each element).
- **publish**: sends the value on a channel; \`msg.payload\` is how many subscribers got it.
- **xadd**: appends the value (an object: its properties become the entry's fields) to a stream; \`msg.payload\`
  is the entry id. The **Redis stream** trigger consumes streams with a consumer group.

The key comes from \`key\`, or from the message (\`keyFrom\`). Values that are JSON are parsed when \`json\` is on.
Writes with a TTL run in one MULTI. Errors name the server, the command and what Redis said (WRONGTYPE...).`;

export const redisNode = defineNode<RedisProps>({
  type: 'redis',
  category: 'connector',
  label: 'Redis',
  icon: 'memory',
  color: '#d82c20',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: redisCredential.name, schema: redisCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<RedisFields> | undefined;
    if (!credential) throw new Error('needs a redis credential');
    const client = clientHandle(init.services, credential);
    const p = withDefaults<RedisProps>(props, init.props);
    return {
      async onInput(msg: FlowMessage) {
        const key = p.operation === 'publish' ? p.channel! : from(msg, p.key, p.keyFrom, 'key');
        try {
          const payload = await client.use((redis) => command(redis, p, key, msg));
          return { ...msg, payload };
        } catch (error) {
          if (error instanceof NodeInputError) throw error;
          throw new RedisError(describeServer(credential.fields), `${p.operation.toUpperCase()} ${key}`, error);
        }
      },
      close() {
        client.release();
      },
    };
  },
});

/** A fixed value from props, else one from the message; either way a non-empty string. */
function from(msg: FlowMessage, fixed: string | undefined, property: string | undefined, what: string): string {
  if (fixed) return fixed;
  const value = property ? getProperty(msg, property) : undefined;
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number') return String(value);
  throw new NodeInputError(property ? `the ${what} must be a non-empty string or a number at msg.${property}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}` : `no ${what}: set the ${what} or where to take it from`);
}

function encode(value: unknown, json: boolean): string | Buffer {
  if (typeof value === 'string' || Buffer.isBuffer(value)) return value;
  if (json) return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new NodeInputError(`the value is ${value === null ? 'null' : typeof value}: turn JSON values on to write it as JSON`);
}

function decode(value: string | null, json: boolean): unknown {
  if (value === null || !json) return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

async function command(redis: Redis, p: RedisProps, key: string, msg: FlowMessage): Promise<unknown> {
  const value = () => {
    const v = getProperty(msg, p.valueFrom);
    if (v === undefined) throw new NodeInputError(`the message has no ${p.valueFrom} (the value to write)`);
    return v;
  };
  const field = () => from(msg, p.field, p.fieldFrom, 'hash field');
  const ttl = p.ttlSeconds;
  switch (p.operation) {
    case 'get':
      return decode(await redis.get(key), p.json);
    case 'set': {
      const v = encode(value(), p.json);
      const done = ttl ? (p.onlyIfAbsent ? await redis.set(key, v, 'EX', ttl, 'NX') : await redis.set(key, v, 'EX', ttl)) : p.onlyIfAbsent ? await redis.set(key, v, 'NX') : await redis.set(key, v);
      return p.onlyIfAbsent ? done === 'OK' : done;
    }
    case 'del':
      return redis.del(key);
    case 'incr': {
      if (!ttl) return redis.incrby(key, p.by);
      // EXPIRE NX: only a new counter gets the TTL, so the window is fixed from its first increment.
      const [[error, count]] = (await redis.multi().incrby(key, p.by).call('EXPIRE', key, String(ttl), 'NX').exec())! as [[Error | null, number]];
      if (error) throw error;
      return count;
    }
    case 'expire':
      return (await redis.expire(key, ttl!)) === 1;
    case 'hget':
      return decode(await redis.hget(key, field()), p.json);
    case 'hgetall': {
      const all = await redis.hgetall(key);
      return Object.fromEntries(Object.entries(all).map(([k, v]) => [k, decode(v, p.json)]));
    }
    case 'hdel':
      return redis.hdel(key, field());
    case 'hset': {
      const v = value();
      const pairs: Array<string | Buffer> = [];
      if (p.field || p.fieldFrom) pairs.push(field(), encode(v, p.json));
      else if (v !== null && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) pairs.push(k, encode(x, p.json));
      else throw new NodeInputError('hset without a field needs an object value (its properties become the fields)');
      if (pairs.length === 0) throw new NodeInputError('hset: the object has no properties to write');
      return withTtl(redis, key, ttl, (m) => m.hset(key, ...pairs));
    }
    case 'lpush':
    case 'rpush': {
      const v = value();
      const items = (Array.isArray(v) ? v : [v]).map((x) => encode(x, p.json));
      if (items.length === 0) throw new NodeInputError(`${p.operation}: the array to push is empty`);
      return withTtl(redis, key, ttl, (m) => m[p.operation as 'lpush'](key, ...items));
    }
    case 'lpop':
      return decode(await redis.lpop(key), p.json);
    case 'rpop':
      return decode(await redis.rpop(key), p.json);
    case 'lrange':
      return (await redis.lrange(key, p.start, p.stop)).map((x) => decode(x, p.json));
    case 'publish':
      return redis.publish(key, encode(value(), p.json));
    case 'xadd': {
      const v = value();
      const entry = v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.entries(v).flatMap(([k, x]) => [k, encode(x, p.json)]) : ['payload', encode(v, p.json)];
      if (entry.length === 0) throw new NodeInputError('xadd: the object has no properties to add as fields');
      return redis.xadd(key, '*', ...entry);
    }
  }
}

/** Run a write and, with a TTL, EXPIRE in the same MULTI: the first command's reply is returned. */
async function withTtl(redis: Redis, key: string, ttl: number | undefined, write: (m: ReturnType<Redis['multi']>) => unknown): Promise<unknown> {
  const m = redis.multi();
  write(m);
  if (ttl) m.expire(key, ttl);
  const [[error, reply]] = (await m.exec())! as [[Error | null, unknown]];
  if (error) throw error;
  return reply;
}
