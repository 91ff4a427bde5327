/**
 * HTTP plumbing shared by the HTTP providers: the runtime's outbound guard (services.outbound.fetch: no loopback,
 * private or metadata address unless allow-listed, so an API key cannot be sent to the runtime itself), a timeout that means "no bytes for this long"
 * (so a long stream that keeps talking is never cut, and a silent server never hangs a run), errors mapped to
 * retryable or not, and Server-Sent Events framing via eventsource-parser.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { OutboundRefusedError, type OutboundServices } from '@flowcrew/sdk';
import { ProviderError, parseRetryAfter } from './errors.ts';

export interface HttpCall {
  /** Who we are talking to, for error messages: 'OpenAI-compatible (http://localhost:11434/v1)'. */
  label: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
  timeoutMs: number;
  signal?: AbortSignal;
  /** The guarded fetch every request goes through. */
  outbound: OutboundServices;
}

/** Statuses worth another attempt: timeouts, conflicts, rate limits, server trouble (529: Anthropic overloaded). */
const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 529]);

/** What to do about a failure, in terms of the node's AI model credential (where every transport setting lives). */
const HINTS = {
  auth: "Check the apiKey of the node's AI model credential.",
  notFound: "Check baseUrl and model in the node's AI model credential.",
  busy: "Try again later, or raise maxRetries in the node's AI model credential.",
  timeout: "If the model is just slow, raise timeoutMs in the node's AI model credential.",
  unreachable: "Check baseUrl in the node's AI model credential and that the server is running.",
  refused: "Check baseUrl in the node's AI model credential; an administrator can allow an internal model server with FLOWCREW_OUTBOUND_ALLOW.",
};

function statusHint(status: number): string | undefined {
  if (status === 401 || status === 403) return HINTS.auth;
  if (status === 404) return HINTS.notFound;
  if (RETRYABLE_STATUS.has(status)) return HINTS.busy;
  return undefined;
}

class IdleTimer {
  readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly ms: number) {
    this.touch();
  }
  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.controller.abort(new Error('idle timeout')), this.ms);
  }
  stop(): void {
    clearTimeout(this.timer);
  }
  get fired(): boolean {
    return this.controller.signal.aborted;
  }
}

async function send(call: HttpCall, idle: IdleTimer): Promise<Response> {
  const signal = call.signal ? AbortSignal.any([call.signal, idle.controller.signal]) : idle.controller.signal;
  let response: Response;
  try {
    response = await call.outbound.fetch(call.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...call.headers },
      body: JSON.stringify(call.body),
      signal,
    });
  } catch (error) {
    throw transportError(call, idle, error);
  }
  if (!response.ok) {
    const text = await readText(response, call, idle).catch(() => '');
    const message = `${call.label}: HTTP ${response.status} ${response.statusText}${describeErrorBody(text)}`;
    const retryable = RETRYABLE_STATUS.has(response.status);
    const hint = statusHint(response.status);
    // A retryable failure gets its hint once retries are exhausted (see withRetries); any other is final now.
    throw new ProviderError(retryable || !hint ? message : `${message}. ${hint}`, {
      retryable,
      status: response.status,
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      hint: retryable ? hint : undefined,
    });
  }
  return response;
}

function transportError(call: HttpCall, idle: IdleTimer, error: unknown): unknown {
  if (call.signal?.aborted) return call.signal.reason ?? error; // The run was cancelled: not a provider failure.
  // The outbound guard refused the address: asking again would be refused again.
  if (error instanceof OutboundRefusedError) return new ProviderError(`${call.label}: ${error.message}. ${HINTS.refused}`, { retryable: false, cause: error });
  if (idle.fired) return new ProviderError(`${call.label}: no response for ${call.timeoutMs} ms`, { retryable: true, hint: HINTS.timeout, cause: error });
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const detail = cause?.code ?? cause?.message ?? (error as Error).message;
  return new ProviderError(`${call.label}: cannot reach ${call.url}: ${detail}`, { retryable: true, hint: HINTS.unreachable, cause: error });
}

async function readText(response: Response, call: HttpCall, idle: IdleTimer): Promise<string> {
  if (!response.body) return '';
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      idle.touch();
      text += decoder.decode(chunk, { stream: true });
    }
  } catch (error) {
    throw transportError(call, idle, error);
  }
  return text + decoder.decode();
}

/** Pull the provider's own error message out of a JSON error body, else show the start of the body. */
function describeErrorBody(text: string): string {
  if (!text) return '';
  try {
    const body = JSON.parse(text) as { error?: { message?: string } | string; message?: string };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (message) return `: ${message}`;
  } catch {
    // not JSON: fall through
  }
  return `: ${text.slice(0, 300)}`;
}

/** POST a JSON body and parse the JSON answer. */
export async function postJson(call: HttpCall): Promise<unknown> {
  const idle = new IdleTimer(call.timeoutMs);
  try {
    const response = await send(call, idle);
    const text = await readText(response, call, idle);
    try {
      return JSON.parse(text);
    } catch {
      // A garbled body from a healthy-looking server is usually a proxy or overload glitch: worth a retry.
      throw new ProviderError(`${call.label}: returned invalid JSON: ${JSON.stringify(text.slice(0, 200))}`, { retryable: true });
    }
  } finally {
    idle.stop();
  }
}

/**
 * POST a JSON body and hand each Server-Sent Event of the answer to `onEvent`, in order. Some servers ignore
 * `stream: true` and answer with plain JSON: that answer is returned instead, for the caller to read as such.
 */
export async function postEventStream(call: HttpCall, onEvent: (event: EventSourceMessage) => void): Promise<{ json?: unknown }> {
  const idle = new IdleTimer(call.timeoutMs);
  try {
    const response = await send(call, idle);
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      const text = await readText(response, call, idle);
      if (type.includes('json')) {
        try {
          return { json: JSON.parse(text) };
        } catch {
          throw new ProviderError(`${call.label}: returned invalid JSON: ${JSON.stringify(text.slice(0, 200))}`, { retryable: true });
        }
      }
      throw new ProviderError(`${call.label}: expected an event stream, got ${type || 'no content type'}${describeErrorBody(text)}`, { retryable: false });
    }
    let failure: unknown;
    const parser = createParser({
      onEvent(event) {
        if (failure) return;
        try {
          onEvent(event);
        } catch (error) {
          failure = error; // Stop at the first bad event; the rest of the stream is not trusted.
        }
      },
    });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        idle.touch();
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (failure) break;
      }
    } catch (error) {
      throw transportError(call, idle, error);
    }
    if (failure) throw failure;
    return {};
  } finally {
    idle.stop();
  }
}

/** Parse one SSE data payload as JSON; a garbled event fails the attempt (retryable). */
export function parseEventJson(label: string, data: string): Record<string, unknown> {
  try {
    const value = JSON.parse(data) as unknown;
    if (value && typeof value === 'object') return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new ProviderError(`${label}: stream sent invalid JSON: ${JSON.stringify(data.slice(0, 200))}`, { retryable: true });
}
