/**
 * The shared test Redis database of each test file that empties a BullMQ queue or keeps queue-mode state. Vitest runs
 * files side by side and a file empties its queue around its tests (QueueCluster, clearQueue), so two files on one
 * database wipe each other's jobs. One list, so a new file takes a number nobody has. scripts/services.d/redis.sh
 * starts Redis with 32 databases; 0 is the connector tests' and plain clients'.
 */
export const TEST_REDIS_DB = {
  testRunLive: 3, // cluster/test-run-live.test.ts
  drain: 4, // queue/drain.test.ts
  repliesCrossWorker: 5, // queue/replies-cross-worker.test.ts
  queue: 7, // queue/queue.test.ts
  batchAttempts: 8, // queue/batch-attempts.test.ts
  leader: 9, // cluster/leader.test.ts
  liveCluster: 10, // live/cluster.test.ts
  dispatcherContract: 11, // queue/dispatcher-contract.test.ts
  redisIsolation: 12, // cluster/redis-isolation.test.ts
  concurrency: 13, // queue/concurrency.test.ts
  waitingLiveCluster: 14, // waiting/waiting-live-cluster.test.ts
  crewRerunQueue: 15, // nodes/ai crew-rerun-queue.test.ts
  healthDependenciesDown: 16, // queue/health-dependencies-down.test.ts
  injectLeader: 17, // cluster/inject-leader.test.ts
  queueModeObservability: 18, // metrics/queue-mode-observability.test.ts
  entrypoint: 19, // packaging/entrypoint.test.ts
  replies: 20, // queue/replies.test.ts
  calledRunQueue: 21, // subflows/called-run-queue.test.ts
  takeoverUndeployed: 22, // queue/takeover-undeployed.test.ts
} as const;
