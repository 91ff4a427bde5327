/**
 * What Node-RED's http request node does with bytes (http-request.ts): the request body by its rules (strings as
 * they are, objects as JSON or form data), query strings with stray '%' tolerated, response headers with cookies.
 */
import querystring from 'node:querystring';
import { NodeInputError } from '@flowcrew/sdk';
import { findHeader } from './http-util.ts';

const utf8 = new TextEncoder();

/** Node-RED tolerates stray '%' in query strings; fetch would reject them, so escape any '%' not starting an escape. */
export function escapeStrayPercents(url: string): string {
  const at = url.indexOf('?');
  if (at < 0) return url;
  const query = url.slice(at + 1).replace(/%.?.?/g, (v) => (/^%[a-f0-9]{2}/i.test(v) ? v : v.replace('%', '%25')));
  return `${url.slice(0, at)}?${query}`;
}

/** The request body for methods that carry one, per Node-RED's rules (strings as is, objects as JSON or form data). */
export function encodeBody(payload: unknown, headers: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  // Bytes rather than a string: fetch would add its own text/plain Content-Type to a string body, which Node-RED does not.
  if (typeof payload === 'string') return utf8.encode(payload);
  if (typeof payload === 'number') return utf8.encode(String(payload));
  const contentType = findHeader(headers, 'content-type');
  if (contentType && headers[contentType] === 'application/x-www-form-urlencoded') {
    return utf8.encode(formEncode(payload));
  }
  if (!contentType) headers['Content-Type'] = 'application/json';
  return utf8.encode(JSON.stringify(payload));
}

/** Node-RED's querystring.stringify: spaces as %20 (URLSearchParams would write +). */
export const formEncode = (payload: unknown): string => formEntries(payload).map(([k, v]) => `${querystring.escape(k)}=${querystring.escape(v)}`).join('&');

/** Like querystring.stringify: arrays repeat the key, nested objects become empty strings. */
export function formEntries(payload: unknown): Array<[string, string]> {
  if (!payload || typeof payload !== 'object') throw new NodeInputError('Invalid payload: query parameters need an object');
  const entries: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(payload)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      entries.push([key, item === null || item === undefined || typeof item === 'object' ? '' : String(item)]);
    }
  }
  return entries;
}

export function responseHeaders(response: Response): Record<string, unknown> {
  const headers: Record<string, unknown> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return headers;
}
