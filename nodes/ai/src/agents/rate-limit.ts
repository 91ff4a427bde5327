/**
 * An agent's requests-per-minute limit (CrewAI's max_rpm), on the `limiter` token bucket: a model call beyond
 * the limit waits for its turn (abortably) instead of failing. One limit per deployed agent, so every run of the
 * node shares it, as the provider's own rate limit would count them.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RateLimiter } from 'limiter';

export class RequestsPerMinute {
  private readonly limiter: RateLimiter;

  constructor(readonly perMinute: number) {
    this.limiter = new RateLimiter({ tokensPerInterval: perMinute, interval: 'minute' });
  }

  /** Wait until a call is allowed; resolves with how long it waited (ms). */
  async acquire(signal: AbortSignal): Promise<number> {
    const start = Date.now();
    while (!this.limiter.tryRemoveTokens(1)) {
      signal.throwIfAborted();
      // Cancelled while waiting: fail with the run's own reason, as the rest of the agent loop does.
      await sleep(Math.max(20, this.limiter.getWaitTime(1)), undefined, { signal }).catch((error: unknown) => {
        throw signal.aborted ? signal.reason : error;
      });
    }
    return Date.now() - start;
  }
}
