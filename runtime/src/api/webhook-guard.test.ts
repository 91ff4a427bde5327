import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { safeEqual, signWebhook, WebhookGuard } from './webhook-guard.ts';

const T0 = 1_760_000_000_000; // a fixed "now", ms
const guard = (options: { replayMemory?: number } = {}) => {
  let now = T0;
  const g = new WebhookGuard({ ...options, now: () => now });
  return Object.assign(g, { advance: (ms: number) => (now += ms) });
};
const basicHeader = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

describe('webhook guard: basic and header token', () => {
  const basic = { type: 'basic' as const, username: 'ada', password: 'p4ss:with:colons' };

  it('basic: accepts the right pair only, whatever the case of "Basic"', () => {
    const g = guard();
    expect(g.beforeBody(basic, basicHeader('ada', 'p4ss:with:colons'))).toBeNull();
    expect(g.beforeBody(basic, { authorization: basicHeader('ada', 'p4ss:with:colons').authorization.replace('Basic', 'basic') })).toBeNull();
    expect(g.beforeBody(basic, basicHeader('ada', 'wrong'))).toBe('wrong username or password');
    expect(g.beforeBody(basic, basicHeader('eve', 'p4ss:with:colons'))).toBe('wrong username or password');
    expect(g.beforeBody(basic, {})).toBe('no Basic credentials');
    expect(g.beforeBody(basic, { authorization: 'Bearer x' })).toBe('no Basic credentials');
    expect(g.beforeBody(basic, { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` })).toBe('malformed Basic credentials');
  });

  it('header token: exact value, or "Bearer <token>" for Authorization; repeated headers are refused', () => {
    const g = guard();
    const custom = { type: 'header' as const, header: 'X-Api-Key', token: 'tok' };
    expect(g.beforeBody(custom, { 'x-api-key': 'tok' })).toBeNull();
    expect(g.beforeBody(custom, { 'x-api-key': 'Bearer tok' })).toBe('wrong X-Api-Key token');
    expect(g.beforeBody(custom, { 'x-api-key': ['tok', 'tok'] })).toBe('no (single) X-Api-Key header');
    const auth = { type: 'header' as const, header: 'Authorization', token: 'tok' };
    expect(g.beforeBody(auth, { authorization: 'Bearer tok' })).toBeNull();
    expect(g.beforeBody(auth, { authorization: 'tok' })).toBeNull();
    expect(g.beforeBody(auth, { authorization: 'Bearer tok2' })).toBe('wrong Authorization token');
  });

  it('none, or no auth declared, lets everything through', () => {
    expect(guard().beforeBody(undefined, {})).toBeNull();
    expect(guard().beforeBody({ type: 'none' }, {})).toBeNull();
    expect(guard().afterBody({ type: 'none' }, {}, Buffer.from('x'), 'r')).toBeNull();
  });

  it('compares in constant time over digests, so lengths do not matter', () => {
    expect(safeEqual('a', 'a')).toBe(true);
    expect(safeEqual('a', 'a'.repeat(1000))).toBe(false);
    expect(safeEqual('', '')).toBe(true);
  });
});

describe('webhook guard: HMAC signatures', () => {
  const auth = { type: 'hmac' as const, secret: 's3cret' };
  const body = Buffer.from('{"n":1}');
  const headersFor = (timestamp: number, b = body, secret = 's3cret') => {
    const signed = signWebhook({ secret }, b, String(timestamp));
    return { 'x-flowcrew-signature': signed.signature, 'x-flowcrew-timestamp': signed.timestamp };
  };
  const ts = Math.floor(T0 / 1000);

  it('signs timestamp.body with HMAC-SHA256 as documented', () => {
    expect(signWebhook({ secret: 's3cret' }, body, '100').signature).toBe(`sha256=${createHmac('sha256', 's3cret').update('100.{"n":1}').digest('hex')}`);
  });

  it('accepts a fresh, correct signature once; the same request again is a replay', () => {
    const g = guard();
    const headers = headersFor(ts);
    expect(g.beforeBody(auth, headers)).toBeNull();
    expect(g.afterBody(auth, headers, body, 'POST /a')).toBeNull();
    expect(g.afterBody(auth, headers, body, 'POST /a')).toBe('signature already used (replay)');
    // Each route remembers its own signatures.
    expect(g.afterBody(auth, headers, body, 'POST /b')).toBeNull();
  });

  it('refuses a tampered body, a wrong secret, an altered timestamp, and upper/lower case does not matter for the hex', () => {
    const g = guard();
    const headers = headersFor(ts);
    expect(g.afterBody(auth, headers, Buffer.from('{"n":2}'), 'r')).toBe('signature does not match the body');
    expect(g.afterBody(auth, headersFor(ts, body, 'other'), body, 'r')).toBe('signature does not match the body');
    expect(g.afterBody(auth, { ...headers, 'x-flowcrew-timestamp': String(ts + 1) }, body, 'r')).toBe('signature does not match the body');
    expect(g.afterBody(auth, { ...headers, 'x-flowcrew-signature': headers['x-flowcrew-signature'].toUpperCase() }, body, 'r')).toBeNull();
  });

  it('refuses timestamps outside the window before the body is read, and missing headers', () => {
    const g = guard();
    expect(g.beforeBody(auth, headersFor(ts - 299))).toBeNull();
    expect(g.beforeBody(auth, headersFor(ts - 301))).toMatch(/^timestamp \d+ is 301 s away from now \(window ±300 s\)$/);
    expect(g.beforeBody(auth, headersFor(ts + 301))).toMatch(/is 301 s away/);
    expect(g.beforeBody({ ...auth, toleranceSeconds: 30 }, headersFor(ts - 31))).toMatch(/window ±30 s/);
    expect(g.beforeBody(auth, { 'x-flowcrew-signature': 'sha256=00' })).toBe('no valid x-flowcrew-timestamp header (unix seconds)');
    expect(g.beforeBody(auth, { 'x-flowcrew-signature': 'sha256=00', 'x-flowcrew-timestamp': '1e9' })).toBe('no valid x-flowcrew-timestamp header (unix seconds)');
    expect(g.beforeBody(auth, { 'x-flowcrew-timestamp': String(ts) })).toBe('no (single) x-flowcrew-signature header');
  });

  it('forgets a signature once its timestamp is outside the window anyway (memory stays bounded)', () => {
    const g = guard({ replayMemory: 2 });
    const first = headersFor(ts);
    expect(g.afterBody(auth, first, body, 'r')).toBeNull();
    expect(g.afterBody(auth, headersFor(ts + 1), body, 'r')).toBeNull();
    expect(g.afterBody(auth, headersFor(ts + 2), body, 'r')).toBeNull();
    // The oldest entry made room; its replay is still caught by the clock once outside the window.
    g.advance(301_000);
    expect(g.beforeBody(auth, first)).toMatch(/s away from now/);
  });

  it('GitHub: X-Hub-Signature-256 over the body alone, no timestamp; Slack: v0:timestamp:body', () => {
    const g = guard();
    const github = { type: 'hmac' as const, secret: 'gh', scheme: 'github' as const };
    const headers = { 'x-hub-signature-256': `sha256=${createHmac('sha256', 'gh').update(body).digest('hex')}` };
    expect(g.beforeBody(github, headers)).toBeNull();
    expect(g.afterBody(github, headers, body, 'r')).toBeNull();
    expect(g.afterBody(github, headers, body, 'r')).toBe('signature already used (replay)');

    const slack = { type: 'hmac' as const, secret: 'sl', scheme: 'slack' as const };
    const slackHeaders = { 'x-slack-request-timestamp': String(ts), 'x-slack-signature': `v0=${createHmac('sha256', 'sl').update(`v0:${ts}:${body.toString()}`).digest('hex')}` };
    expect(g.beforeBody(slack, slackHeaders)).toBeNull();
    expect(g.afterBody(slack, slackHeaders, body, 'r')).toBeNull();
  });

  it('header names can be renamed to match a sender', () => {
    const g = guard();
    const renamed = { type: 'hmac' as const, secret: 's3cret', signatureHeader: 'X-Sig', timestampHeader: 'X-Time' };
    const signed = signWebhook({ secret: 's3cret' }, body, String(ts));
    const headers = { 'x-sig': signed.signature, 'x-time': signed.timestamp };
    expect(g.beforeBody(renamed, headers)).toBeNull();
    expect(g.afterBody(renamed, headers, body, 'r')).toBeNull();
  });
});
