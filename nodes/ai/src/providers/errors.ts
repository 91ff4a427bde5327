/** Errors a provider call ends with: each says what failed and whether trying again could help. */

export class ProviderError extends Error {
  constructor(
    message: string,
    readonly options: {
      /** 429, 5xx, timeouts, dropped connections, garbled bodies: worth another attempt. */
      retryable: boolean;
      status?: number;
      /** Server-requested wait (Retry-After), ms. */
      retryAfterMs?: number;
      /** What the user can do about a retryable failure once retries are exhausted (added to the final message). */
      hint?: string;
      cause?: unknown;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
  }

  get retryable(): boolean {
    return this.options.retryable;
  }
}

/** The model answered, but not in a form we can use (bad JSON after retries, schema violations...). */
export class ModelOutputError extends Error {
  constructor(
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ModelOutputError';
  }
}

/** Retry-After is either seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function isAbortError(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
