/**
 * jsforce's HTTP transport, replaced: jsforce sends every request (OAuth token, REST, Bulk API 2.0) through
 * `Transport.getRequestStreamCreator()`; this one makes them with the outbound guard's fetch (so a flow cannot reach
 * a host the administrator did not allow) and waits out 429 / Retry-After, keeping jsforce's stream contract
 * ('response' with status and headers, then the body, then 'complete').
 */
import { Readable, type Duplex } from 'node:stream';
import type { HttpRequest, HttpRequestOptions } from 'jsforce/lib/types/index.js';
import type { OutboundServices } from '@flowcrew/sdk';
import { guardedFetch, hostOf } from '../shared/http.ts';
import { loadJsforceTransport } from '../shared/libs.ts';

/** A CommonJS module's named export, however the loader (Node, vite) presents the module. */
function named<T>(module: unknown, name: string): T {
  const m = module as Record<string, Record<string, unknown> | undefined>;
  return (m[name] ?? m.default?.[name]) as T;
}

type CreateStreams = (req: HttpRequest, options: HttpRequestOptions) => { input: Readable; output: NodeJS.WritableStream; stream: Duplex };

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/** A transport for jsforce whose requests go through `outbound` (jsforce loaded on first use; the class is made once). */
export async function guardedTransport(outbound: OutboundServices): Promise<object> {
  return new (await transportClass())(outbound);
}

let made: Promise<new (outbound: OutboundServices) => object> | undefined;
const transportClass = () => (made ??= loadJsforceTransport().then(([transportModule, requestHelper]) => defineTransport(named(transportModule, 'Transport'), named(requestHelper, 'createHttpRequestHandlerStreams'))));

function defineTransport(Transport: new () => { getRequestStreamCreator(): unknown }, createHttpRequestHandlerStreams: CreateStreams) {
 return class GuardedTransport extends Transport {
  constructor(private readonly outbound: OutboundServices) {
    super();
  }

  override getRequestStreamCreator(): (req: HttpRequest, options: HttpRequestOptions) => Duplex {
    return (req, options) => {
      const { input, output, stream } = createHttpRequestHandlerStreams(req, options);
      void this.send(req, input, output, stream);
      return stream;
    };
  }

  private async send(req: HttpRequest, input: Readable, output: NodeJS.WritableStream, stream: Duplex): Promise<void> {
    try {
      const method = (req.method ?? 'GET').toUpperCase();
      // Bodies are buffered so a rate-limited request can be sent again (Bulk API uploads are at most 150 MB).
      const body = /^(POST|PUT|PATCH)$/.test(method) ? await readAll(input) : undefined;
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers ?? {})) if (value !== undefined && name.toLowerCase() !== 'content-length') headers[name] = String(value);
      const response = await guardedFetch(this.outbound, req.url, { method, headers, body: body as BodyInit | undefined });
      const responseHeaders: Record<string, string> = {};
      response.headers.forEach((value, name) => (responseHeaders[name] = value));
      stream.emit('response', { statusCode: response.status, headers: responseHeaders });
      if (response.body) Readable.fromWeb(response.body as never).pipe(output as NodeJS.WritableStream);
      else output.end();
    } catch (error) {
      const e = error as Error & { cause?: { message?: string } };
      const reason = e.cause?.message ? `${e.message} (${e.cause.message})` : e.message;
      stream.emit('error', Object.assign(new Error(`request to ${hostOf(req.url)} failed: ${reason}`, { cause: error }), { name: e.name === 'AbortError' ? 'AbortError' : 'RequestError', retryable: (error as { retryable?: boolean }).retryable }));
    }
  }
};
}
