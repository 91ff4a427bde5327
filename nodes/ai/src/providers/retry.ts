/** Retry a provider call with exponential backoff and jitter, honouring Retry-After, until the caller aborts. */
import { setTimeout as sleep } from 'node:timers/promises';
import { ProviderError, errorMessage } from './errors.ts';

export interface RetryOptions {
  /** Attempts after the first. */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  signal?: AbortSignal;
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void;
}

export const DEFAULT_RETRY: Omit<RetryOptions, 'signal' | 'onRetry'> = { maxRetries: 2, baseDelayMs: 500, maxDelayMs: 10_000 };

export async function withRetries<T>(what: string, options: RetryOptions, attempt: (attemptNumber: number) => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason ?? error;
      const retryable = error instanceof ProviderError && error.retryable;
      if (!retryable || n > options.maxRetries) {
        if (retryable) {
          const { hint } = (error as ProviderError).options;
          throw new ProviderError(`${errorMessage(error)} (gave up after ${n} attempt${n === 1 ? '' : 's'})${hint ? `. ${hint}` : ''}`, { ...(error as ProviderError).options, retryable: false });
        }
        throw error;
      }
      const backoff = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (n - 1));
      // Full jitter spreads retries of parallel calls; a server's Retry-After wins, within the cap.
      const delayMs = Math.min(options.maxDelayMs, error.options.retryAfterMs ?? Math.round(backoff / 2 + (Math.random() * backoff) / 2));
      options.onRetry?.({ attempt: n + 1, delayMs, reason: error.message });
      await sleep(delayMs, undefined, { signal: options.signal }).catch(() => {
        throw options.signal?.reason ?? new Error(`${what}: aborted`);
      });
    }
  }
}
