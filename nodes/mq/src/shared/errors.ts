/** Errors of the message-queue nodes: which broker, which server, what was being done, and what the server said. */
import { OutboundRefusedError } from '@flowcrew/sdk';

/** Connection-level failures: the same operation may work on another try. */
const RETRYABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|timed? ?out|closed|CONNECTION_FORCED|socket hang up/i;

export class BrokerError extends Error {
  readonly retryable: boolean;
  readonly code: string | undefined;

  /**
   * @param broker  'RabbitMQ', 'MQTT', 'NATS'
   * @param server  user@host:port (never the password)
   * @param operation what was being done: 'connect', 'publish to exchange "orders"', ...
   */
  constructor(broker: string, server: string, operation: string, cause: unknown) {
    const e = cause as { message?: string; code?: string | number; errors?: Error[] } | undefined;
    // Aggregated errors (retries, several brokers) say the useful part in their innermost error.
    let inner = e as { message?: string; errors?: unknown[] } | undefined;
    while (inner?.errors?.length) inner = inner.errors[0] as typeof inner;
    const said = [e?.message, inner !== e ? inner?.message : undefined].filter(Boolean).join(': ') || String(cause);
    super(`${broker} ${server}: ${operation} failed: ${said}`);
    this.name = 'BrokerError';
    this.code = e?.code === undefined ? undefined : String(e.code);
    this.retryable = cause instanceof OutboundRefusedError ? false : RETRYABLE.test(`${this.code ?? ''} ${said}`);
    if (cause instanceof Error) this.cause = cause;
  }
}

/** A message the trigger cannot turn into a run, now or ever (not JSON when JSON was required): dead-letter it. */
export class PoisonMessageError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'PoisonMessageError';
  }
}
