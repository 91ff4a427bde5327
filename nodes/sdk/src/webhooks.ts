/** What a trigger node serves over HTTP: webhook routes with their auth and body rules, WebSocket endpoints. */

export interface TriggerReply {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

export interface WebhookRequest {
  method: string;
  path: string;
  /** Named parameters from `:name` segments of the registered path. */
  params: Record<string, string>;
  query: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed by the declared content type: JSON, a form object, multipart fields, text (see WebhookRoute.accept). */
  body: unknown;
  /** The body exactly as received (what a signature is computed over); empty when there was none. */
  rawBody?: Buffer;
  /** Files of a multipart/form-data request (only when the route accepts multipart/form-data). */
  files?: WebhookFile[];
}

export interface WebhookFile {
  /** The form field the file came in. */
  field: string;
  filename: string;
  mimeType: string;
  size: number;
  /** The content, base64-encoded (messages are JSON). */
  data: string;
}

/** Media types a webhook accepts when it declares none. */
export const WEBHOOK_DEFAULT_ACCEPT: readonly string[] = ['application/json', 'application/x-www-form-urlencoded', 'text/plain'];

/**
 * Who may call a webhook, checked by the runtime before `handle` runs: a failure is answered 401 (the body does not
 * say which check failed) and never starts a run. Secrets come from the node's credential.
 */
export type WebhookAuth =
  | { type: 'none' }
  | { type: 'basic'; username: string; password: string }
  /** The header's value must equal `token` (for `Authorization`, `Bearer <token>` is accepted too). */
  | { type: 'header'; header: string; token: string }
  | {
      type: 'hmac';
      secret: string;
      /**
       * What is signed and how the signature is written:
       * - 'flowcrew' (default): HMAC-SHA256 over `<timestamp>.<raw body>`, `X-Flowcrew-Signature: sha256=<hex>`,
       *   `X-Flowcrew-Timestamp: <unix seconds>`;
       * - 'github': over the raw body, `X-Hub-Signature-256: sha256=<hex>` (GitHub sends no timestamp);
       * - 'slack': over `v0:<timestamp>:<raw body>`, `X-Slack-Signature: v0=<hex>`, `X-Slack-Request-Timestamp`.
       */
      scheme?: WebhookSignatureScheme;
      /** Override the scheme's header names (a sender that uses the same format under other names). */
      signatureHeader?: string;
      timestampHeader?: string;
      /** Timestamps further than this from now are refused (default 300 s); a signature seen before is refused too. */
      toleranceSeconds?: number;
    };

export type WebhookSignatureScheme = 'flowcrew' | 'github' | 'slack';

export interface WebhookRoute {
  /** HTTP method, upper case, or 'ALL'. */
  method: string;
  /** Path below /webhook, starting with '/'. May contain `:name` parameters. */
  path: string;
  handle(request: WebhookRequest): Promise<TriggerReply>;
  /** Authentication the runtime enforces before `handle` (default none). */
  auth?: WebhookAuth;
  /**
   * Media types accepted for a request body, e.g. 'application/json', 'text/*' (default WEBHOOK_DEFAULT_ACCEPT).
   * Others are answered 415; a body is parsed only as its declared type. multipart/form-data only when listed.
   */
  accept?: readonly string[];
  /** Largest request body in bytes; the runtime's limit (FLOWCREW_BODY_LIMIT) caps it. Larger is answered 413. */
  maxBodyBytes?: number;
  /**
   * The body is not parsed (Node-RED's http in "skipBodyParsing"): any Content-Type, or none, is read as bytes into
   * `rawBody` within the size limit, and `body` stays undefined. `accept` does not apply.
   */
  raw?: boolean;
}

/** A WebSocket endpoint a node serves (Node-RED's websocket listener). */
export interface WebSocketRoute {
  /** Path below /webhook, starting with '/'. */
  path: string;
  onConnection(connection: WebSocketConnection, request: { path: string; headers: Record<string, string | string[] | undefined>; remoteAddress?: string }): void;
}

/** One open WebSocket, independent of the server library. */
export interface WebSocketConnection {
  readonly id: string;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
  onMessage(listener: (data: string | Uint8Array, isBinary: boolean) => void): void;
  onClose(listener: () => void): void;
}
