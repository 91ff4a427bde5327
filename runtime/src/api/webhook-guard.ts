/**
 * Webhook authentication, as a webhook route declares it (SDK WebhookAuth): basic, header token, or an HMAC-SHA256
 * signature with a replay window. Secrets are compared in constant time (crypto.timingSafeEqual over equal-length
 * digests). A failure returns a reason for the log only: the caller answers a bare 401.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookAuth, WebhookSignatureScheme } from '@flowcrew/sdk';
import { LRUCache } from 'lru-cache';

type Headers = Record<string, string | string[] | undefined>;
type HmacAuth = Extract<WebhookAuth, { type: 'hmac' }>;

interface Scheme {
  signatureHeader: string;
  /** Absent: the sender signs no timestamp (GitHub), so only the replay memory stands against a replay. */
  timestampHeader?: string;
  prefix: string;
  signed(timestamp: string, body: Buffer): Buffer[];
}

export const SIGNATURE_SCHEMES: Record<WebhookSignatureScheme, Scheme> = {
  flowcrew: { signatureHeader: 'x-flowcrew-signature', timestampHeader: 'x-flowcrew-timestamp', prefix: 'sha256=', signed: (ts, body) => [Buffer.from(`${ts}.`), body] },
  github: { signatureHeader: 'x-hub-signature-256', prefix: 'sha256=', signed: (_ts, body) => [body] },
  slack: { signatureHeader: 'x-slack-signature', timestampHeader: 'x-slack-request-timestamp', prefix: 'v0=', signed: (ts, body) => [Buffer.from(`v0:${ts}:`), body] },
};

export const DEFAULT_TOLERANCE_SECONDS = 300;
/** How long a signature without a timestamp is remembered (the memory's size bounds it too). */
const UNTIMED_MEMORY_MS = 24 * 3_600_000;

/** Constant-time equality of two strings of any length: compares their SHA-256 digests. */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function single(headers: Headers, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return typeof value === 'string' ? value : undefined;
}

/** The scheme with any header names the route overrides. */
function schemeOf(auth: HmacAuth): Scheme {
  const base = SIGNATURE_SCHEMES[auth.scheme ?? 'flowcrew'];
  return {
    ...base,
    signatureHeader: (auth.signatureHeader ?? base.signatureHeader).toLowerCase(),
    timestampHeader: base.timestampHeader ? (auth.timestampHeader ?? base.timestampHeader).toLowerCase() : undefined,
  };
}

/** The HMAC a sender would send for this body (hex, with the scheme's prefix): for tests and senders' examples. */
export function signWebhook(auth: { secret: string; scheme?: WebhookSignatureScheme }, body: Buffer | string, timestamp = String(Math.floor(Date.now() / 1000))): { signature: string; timestamp: string } {
  const scheme = SIGNATURE_SCHEMES[auth.scheme ?? 'flowcrew'];
  const hmac = createHmac('sha256', auth.secret);
  for (const part of scheme.signed(timestamp, Buffer.isBuffer(body) ? body : Buffer.from(body))) hmac.update(part);
  return { signature: `${scheme.prefix}${hmac.digest('hex')}`, timestamp };
}

export interface WebhookGuardOptions {
  /** Signatures remembered against replay, across all routes of this process (default 50,000). */
  replayMemory?: number;
  /** Clock, ms (tests). */
  now?: () => number;
}

export class WebhookGuard {
  private readonly seen: LRUCache<string, true>;
  private readonly now: () => number;

  constructor(options: WebhookGuardOptions = {}) {
    this.seen = new LRUCache<string, true>({ max: options.replayMemory ?? 50_000, ttlAutopurge: false });
    this.now = options.now ?? Date.now;
  }

  /** Whether the body must be read before the decision (only HMAC needs it). */
  needsBody(auth: WebhookAuth | undefined): boolean {
    return auth?.type === 'hmac';
  }

  /**
   * Everything decidable from the headers: basic and header token entirely; for HMAC, that the signature and
   * timestamp headers are there and the timestamp is inside the window (so a stale request is refused unread).
   * Returns the reason of a failure, for the log; null when the request may go on.
   */
  beforeBody(auth: WebhookAuth | undefined, headers: Headers): string | null {
    if (!auth || auth.type === 'none') return null;
    if (auth.type === 'basic') {
      const match = /^basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(single(headers, 'authorization') ?? '');
      if (!match) return 'no Basic credentials';
      const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return 'malformed Basic credentials';
      // Both compared, always: which of the two was wrong is not observable.
      const userOk = safeEqual(decoded.slice(0, colon), auth.username);
      const passwordOk = safeEqual(decoded.slice(colon + 1), auth.password);
      return userOk && passwordOk ? null : 'wrong username or password';
    }
    if (auth.type === 'header') {
      const value = single(headers, auth.header);
      if (value === undefined) return `no (single) ${auth.header} header`;
      const exact = safeEqual(value, auth.token);
      const bearer = auth.header.toLowerCase() === 'authorization' && safeEqual(value, `Bearer ${auth.token}`);
      return exact || bearer ? null : `wrong ${auth.header} token`;
    }
    const scheme = schemeOf(auth);
    const signature = single(headers, scheme.signatureHeader);
    if (signature === undefined) return `no (single) ${scheme.signatureHeader} header`;
    if (!scheme.timestampHeader) return null;
    const timestamp = single(headers, scheme.timestampHeader);
    if (timestamp === undefined || !/^\d{1,15}$/.test(timestamp)) return `no valid ${scheme.timestampHeader} header (unix seconds)`;
    const skew = Math.abs(this.now() / 1000 - Number(timestamp));
    const tolerance = auth.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    return skew > tolerance ? `timestamp ${timestamp} is ${Math.round(skew)} s away from now (window ±${tolerance} s)` : null;
  }

  /** HMAC: the signature over the raw body, then the replay memory. `routeKey` keeps routes' memories apart. */
  afterBody(auth: WebhookAuth | undefined, headers: Headers, rawBody: Buffer, routeKey: string): string | null {
    if (auth?.type !== 'hmac') return null;
    const scheme = schemeOf(auth);
    const provided = single(headers, scheme.signatureHeader) ?? '';
    const timestamp = scheme.timestampHeader ? (single(headers, scheme.timestampHeader) ?? '') : '';
    const hmac = createHmac('sha256', auth.secret);
    for (const part of scheme.signed(timestamp, rawBody)) hmac.update(part);
    const expected = `${scheme.prefix}${hmac.digest('hex')}`;
    if (!safeEqual(provided.trim().toLowerCase(), expected)) return 'signature does not match the body';
    const key = `${routeKey}\0${expected}`;
    if (this.seen.has(key)) return 'signature already used (replay)';
    // Remembered past the far edge of the window: a timestamp up to `tolerance` ahead stays valid that much longer.
    const ttl = scheme.timestampHeader ? 2 * (auth.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS) * 1000 : UNTIMED_MEMORY_MS;
    this.seen.set(key, true, { ttl });
    return null;
  }
}
