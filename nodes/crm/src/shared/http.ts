/**
 * What every CRM client here shares: requests go out through the outbound guard, a 429 (or 503) with Retry-After is
 * waited out and retried a few times, and the caller's abort signal reaches the request without being threaded
 * through each client library (AsyncLocalStorage: the node runs an operation inside `withSignal`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { OutboundServices } from '@flowcrew/sdk';

const signals = new AsyncLocalStorage<AbortSignal>();

/** Run `fn` with `signal` aborting every request made inside it. */
export function withSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return signals.run(signal, fn);
}

export function currentSignal(): AbortSignal | undefined {
  return signals.getStore();
}

export interface RetryPolicy {
  /** Retries after a 429/503 (default 3). */
  retries: number;
  /** The longest Retry-After waited out (default 30 s); a longer one fails with the server's answer. */
  maxWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { retries: 3, maxWaitMs: 30_000 };

/** Milliseconds a Retry-After header asks for (seconds or an HTTP date); undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `fetch` through the guard, waiting out rate limits: a 429, or a 503 that says when to come back, is retried after
 * its Retry-After (1 s, 2 s, 4 s... without one), up to `policy.retries` times. The body must be replayable (not a
 * stream). The abort signal is the init's, else the one `withSignal` set.
 */
export async function guardedFetch(outbound: OutboundServices, url: string | URL, init: RequestInit = {}, policy: RetryPolicy = DEFAULT_RETRY): Promise<Response> {
  const signal = init.signal ?? currentSignal();
  for (let attempt = 0; ; attempt++) {
    const response = await outbound.fetch(url, { ...init, signal });
    const limited = response.status === 429 || (response.status === 503 && response.headers.has('retry-after'));
    if (!limited || attempt >= policy.retries) return response;
    const wait = retryAfterMs(response.headers.get('retry-after')) ?? 1000 * 2 ** attempt;
    if (wait > policy.maxWaitMs) return response;
    await response.body?.cancel().catch(() => undefined);
    await sleep(wait, signal ?? undefined);
  }
}

/** "host" of a URL for messages (never the path or query, which may carry ids or tokens). */
export function hostOf(url: string | URL | undefined): string {
  if (!url) return '(no address)';
  try {
    return new URL(url).host;
  } catch {
    return String(url);
  }
}
