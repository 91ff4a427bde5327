/**
 * HubSpot webhook request signatures, version 3 (X-HubSpot-Signature-v3): base64 HMAC-SHA256, keyed with the app's
 * client secret, of method + URI + body + timestamp, where the URI is the one HubSpot called with a documented set of
 * percent-encoded characters decoded, and the timestamp (X-HubSpot-Request-Timestamp, ms) at most 5 minutes old.
 * Compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAX_AGE_MS = 5 * 60 * 1000;

/** The characters HubSpot decodes in the URI before signing. */
const DECODED: Record<string, string> = { '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';' };

export function signatureV3(secret: string, method: string, uri: string, body: string, timestamp: string): string {
  const decoded = uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()]!);
  return createHmac('sha256', secret).update(`${method.toUpperCase()}${decoded}${body}${timestamp}`, 'utf8').digest('base64');
}

export type Verdict = { ok: true } | { ok: false; reason: string };

export function verifyV3(secret: string, request: { method: string; uri: string; body: string; signature?: string; timestamp?: string }, now = Date.now()): Verdict {
  if (!request.signature || !request.timestamp) return { ok: false, reason: 'no X-HubSpot-Signature-v3 / X-HubSpot-Request-Timestamp header' };
  const sent = Number(request.timestamp);
  if (!Number.isFinite(sent)) return { ok: false, reason: 'the timestamp is not a number' };
  if (Math.abs(now - sent) > MAX_AGE_MS) return { ok: false, reason: `the timestamp is ${Math.round((now - sent) / 1000)} s from now (more than 5 minutes)` };
  const expected = Buffer.from(signatureV3(secret, request.method, request.uri, request.body, request.timestamp), 'utf8');
  const given = Buffer.from(request.signature, 'utf8');
  // Equal lengths first: timingSafeEqual throws otherwise (a length says nothing about the secret).
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'the signature does not match' };
  return { ok: true };
}
