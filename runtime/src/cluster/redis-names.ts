/**
 * Every Redis pub/sub channel and key of an installation, in one place. Pub/sub ignores the database number, so two
 * installations sharing a Redis server would hear each other's channels (deploys, packs, webhook replies, the
 * Socket.IO adapter's events, watched rooms): each name carries the installation's prefix (cluster/config.ts
 * channelPrefix: FLOWCREW_REDIS_PREFIX, else the database number). The BullMQ queue's keys: cluster/config.ts queuePrefix.
 */
import { channelPrefix, type ClusterConfig } from './config.ts';

export interface RedisNames {
  readonly prefix: string;
  /** Announcement topics (cluster/channel.ts RedisChannel). */
  readonly deploys: string;
  readonly library: string;
  /** A webhook's answer for the request waiting on a main (queue/replies.ts): a run's (or reply handle's) channel. */
  reply(runId: string): string;
  /** A main's own reply channel: the answers of the runs it waits on, when their job carried it (queue/replies.ts). */
  mainReplies(instance: string): string;
  /** Socket.IO Redis adapter / emitter key (its channels are named after it). */
  readonly socketIo: string;
  /** The rooms watched on each main (live/cluster.ts): a key per main and a channel. */
  readonly roomsChannel: string;
  roomsKey(instance: string): string;
  readonly roomsKeyPattern: string;
  /** A flow's debug catch-up list (live/cluster.ts ClusterDebugLog). */
  debugKey(flowId: string): string;
}

export function redisNames(config: Pick<ClusterConfig, 'redisPrefix' | 'redisUrl'> | string): RedisNames {
  const prefix = typeof config === 'string' ? config : channelPrefix(config);
  return {
    prefix,
    deploys: `${prefix}:deploys`,
    library: `${prefix}:library`,
    reply: (runId) => `${prefix}:reply:${runId}`,
    mainReplies: (instance) => `${prefix}:replies-to:${instance}`,
    socketIo: `${prefix}:socket.io`,
    roomsChannel: `${prefix}:live:rooms`,
    roomsKey: (instance) => `${prefix}:live:rooms:${instance}`,
    roomsKeyPattern: `${prefix}:live:rooms:*`,
    debugKey: (flowId) => `${prefix}:live:debug:${flowId}`,
  };
}
