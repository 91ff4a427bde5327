/** HTTP helpers shared by http-request and webhook-response. */
import { createHash } from 'node:crypto';

/**
 * Node-RED's http request node stamps the response headers it puts on `msg.headers` with a hash under this key,
 * so a later http request / http response node can tell "these are just the headers of a previous response"
 * (drop them) from headers the user built on purpose (use them).
 */
export const RESPONSE_HEADERS_MARK = 'x-node-red-request-node';

export function headersHash(headers: Record<string, unknown>): string {
  const sorted = Object.keys(headers)
    .filter((k) => k !== RESPONSE_HEADERS_MARK)
    .sort()
    .map((k) => [k, headers[k]]);
  return createHash('sha1').update(JSON.stringify(sorted)).digest('hex').slice(0, 16);
}

/** `msg.headers` as the user meant them: undefined when they are an untouched copy of a previous response's headers. */
export function userHeaders(headers: unknown): Record<string, unknown> | undefined {
  if (!headers || typeof headers !== 'object' || Array.isArray(headers)) return undefined;
  const record = headers as Record<string, unknown>;
  if (!(RESPONSE_HEADERS_MARK in record)) return record;
  const { [RESPONSE_HEADERS_MARK]: mark, ...rest } = record;
  return mark === headersHash(rest) ? undefined : rest;
}

/** Case-insensitive header lookup, keeping the caller's spelling of names. */
export function findHeader(headers: Record<string, unknown>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(headers).find((k) => k.toLowerCase() === lower);
}

/** Set (or, with an empty value, remove) a header, replacing any spelling of the same name: Node-RED's `updateHeader`. */
export function updateHeader(headers: Record<string, unknown>, name: string, value: unknown): void {
  for (;;) {
    const existing = findHeader(headers, name);
    if (existing === undefined) break;
    delete headers[existing];
  }
  if (value !== undefined && value !== null && value !== '') headers[name] = value;
}

/**
 * Cookies from Set-Cookie lines, shaped like Node-RED's `msg.responseCookies`:
 * `{ name: { value, Path: '/', Expires: '...' } }` (flag attributes without a value are left out, as the cookie module does).
 */
export function parseSetCookies(lines: string[]): Record<string, Record<string, string>> {
  const cookies: Record<string, Record<string, string>> = {};
  for (const line of lines) {
    const [pair = '', ...attributes] = line.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    const name = pair.slice(0, eq).trim();
    const cookie: Record<string, string> = { value: decodeCookieValue(pair.slice(eq + 1).trim()) };
    for (const attribute of attributes) {
      const at = attribute.indexOf('=');
      if (at < 0) continue;
      cookie[attribute.slice(0, at).trim()] = decodeCookieValue(attribute.slice(at + 1).trim());
    }
    cookies[name] = cookie;
  }
  return cookies;
}

function decodeCookieValue(value: string): string {
  const unquoted = value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
  try {
    return decodeURIComponent(unquoted);
  } catch {
    return unquoted;
  }
}
