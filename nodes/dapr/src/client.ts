/**
 * The Dapr sidecar's HTTP API (v1.0) as the nodes use it: every request goes through the outbound guard (the sidecar
 * is an address like any other: loopback must be allow-listed), with the API token when the sidecar requires one.
 * Errors name the sidecar, the operation and what Dapr answered (its errorCode and message).
 */
import { OutboundRefusedError, type NodeCredential, type OutboundServices } from '@flowcrew/sdk';

export interface DaprFields extends Record<string, unknown> {
  host: string;
  httpPort?: number;
  grpcPort?: number;
  /** Sent as `dapr-api-token` (the sidecar's DAPR_API_TOKEN). */
  apiToken?: string;
}

export const DEFAULT_HTTP_PORT = 3500;
export const DEFAULT_GRPC_PORT = 50001;

export function describeDapr(fields: DaprFields, port = fields.httpPort ?? DEFAULT_HTTP_PORT): string {
  return `${fields.host}:${port}`;
}

/** Connection-level failures and 5xx answers: the same request may work on another try. */
const RETRYABLE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|timed? ?out|socket hang up|other side closed|UNAVAILABLE/i;

export class DaprError extends Error {
  readonly retryable: boolean;
  /** Dapr's errorCode (ERR_PUBSUB_NOT_FOUND, ERR_STATE_STORE_NOT_FOUND, ...), or the HTTP status. */
  readonly code: string | undefined;
  readonly status: number | undefined;

  constructor(sidecar: string, operation: string, detail: { status?: number; code?: string; message: string; cause?: unknown }) {
    super(`Dapr sidecar ${sidecar}: ${operation} failed: ${detail.status ? `${detail.status} ` : ''}${detail.code ? `${detail.code}: ` : ''}${detail.message}`);
    this.name = 'DaprError';
    this.status = detail.status;
    this.code = detail.code ?? (detail.status ? String(detail.status) : undefined);
    this.retryable =
      detail.cause instanceof OutboundRefusedError ? false : detail.status !== undefined ? detail.status >= 500 || detail.status === 429 : RETRYABLE.test(`${detail.message} ${String((detail.cause as { code?: string })?.code ?? '')}`);
    if (detail.cause !== undefined) this.cause = detail.cause;
  }
}

export interface DaprResponse {
  status: number;
  headers: Headers;
  /** The body as text ('' for 204). */
  text: string;
}

export class DaprHttp {
  constructor(
    private readonly outbound: OutboundServices,
    private readonly fields: () => DaprFields,
  ) {}

  get sidecar(): string {
    return describeDapr(this.fields());
  }

  /**
   * One request to the sidecar. Resolves with any 2xx answer; throws DaprError otherwise (and for `expect`ed
   * statuses outside 2xx: pass them to get them back instead, e.g. 409 for an etag mismatch).
   */
  async request(operation: string, method: string, path: string, options: { body?: string | Uint8Array; headers?: Record<string, string>; signal?: AbortSignal; expect?: number[] } = {}): Promise<DaprResponse> {
    const fields = this.fields();
    const host = fields.host.includes(':') && !fields.host.startsWith('[') ? `[${fields.host}]` : fields.host;
    const url = `http://${host}:${fields.httpPort ?? DEFAULT_HTTP_PORT}${path}`;
    const headers: Record<string, string> = { ...options.headers };
    if (fields.apiToken) headers['dapr-api-token'] = fields.apiToken;
    let response: Response;
    try {
      response = await this.outbound.fetch(url, { method, headers, body: options.body as BodyInit | undefined, signal: options.signal ?? AbortSignal.timeout(30_000) });
    } catch (error) {
      throw new DaprError(this.sidecar, operation, { message: (error as Error).message, cause: (error as { cause?: unknown }).cause ?? error });
    }
    const text = await response.text();
    if (response.ok || options.expect?.includes(response.status)) return { status: response.status, headers: response.headers, text };
    let code: string | undefined;
    let message = text || response.statusText;
    try {
      const parsed = JSON.parse(text) as { errorCode?: string; message?: string };
      code = parsed.errorCode;
      message = parsed.message ?? message;
    } catch {
      // not Dapr's JSON error body: keep the text
    }
    throw new DaprError(this.sidecar, operation, { status: response.status, code, message });
  }
}

/** A client on the node's live credential (an edited credential applies to the next request). */
export function daprHttp(outbound: OutboundServices, credential: NodeCredential | undefined): DaprHttp {
  if (!credential) throw new Error('needs a dapr credential (the sidecar address)');
  return new DaprHttp(outbound, () => credential.fields as DaprFields);
}

/** A path segment: component names, topics and keys may hold characters a URL path must escape. */
export const seg = (value: string): string => encodeURIComponent(value);
