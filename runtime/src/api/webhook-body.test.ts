import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { checkBodyDepth } from './body-guard.ts';
import { accepts, declaredType, hasBody, mayBeTooDeep, parseBody, type DeclaredType } from './webhook-body.ts';

const DEFAULT = ['application/json', 'application/x-www-form-urlencoded', 'text/plain'];
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const type = (header: string, accept: string[] = ['*/*']): DeclaredType => declaredType(req({ 'content-type': header }), accept);
const parse = async (header: string, body: string | Buffer, limit = 1_000_000) => parseBody(type(header), Buffer.isBuffer(body) ? body : Buffer.from(body), limit);

describe('webhook bodies: what is accepted', () => {
  it('matches exact types, type/* and */*, ignoring parameters and case', () => {
    expect(accepts(DEFAULT, 'application/json')).toBe(true);
    expect(accepts(DEFAULT, 'multipart/form-data')).toBe(false);
    expect(accepts(['text/*'], 'text/csv')).toBe(true);
    expect(accepts(['text/*'], 'application/json')).toBe(false);
    expect(accepts(['*/*'], 'image/png')).toBe(true);
    expect(type('Application/JSON; charset=UTF-8', DEFAULT).mediaType).toBe('application/json');
  });

  it('refuses with 415: another type, no type, an unparsable type, a compressed body', () => {
    expect(() => type('multipart/form-data; boundary=x', DEFAULT)).toThrow('Content-Type multipart/form-data is not accepted by this webhook; it accepts application/json, application/x-www-form-urlencoded, text/plain');
    expect(() => declaredType(req({}), DEFAULT)).toThrow('a request body needs a Content-Type; this webhook accepts application/json, application/x-www-form-urlencoded, text/plain');
    expect(() => type('json', DEFAULT)).toThrow(/the Content-Type "json" cannot be parsed/);
    expect(() => declaredType(req({ 'content-type': 'application/json', 'content-encoding': 'gzip' }), DEFAULT)).toThrow('Content-Encoding "gzip" is not accepted: send the body uncompressed');
    try {
      type('image/png', DEFAULT);
    } catch (error) {
      expect((error as { status: number }).status).toBe(415);
    }
  });

  it('answers a Content-Type seen before alike: the accept list of each route, refusals and parameters every time', () => {
    for (let i = 0; i < 3; i++) {
      expect(type('application/json; charset=UTF-8', DEFAULT)).toEqual({ mediaType: 'application/json', parameters: { charset: 'UTF-8' }, header: 'application/json; charset=UTF-8' });
      expect(() => type('application/json; charset=UTF-8', ['text/plain'])).toThrow('Content-Type application/json is not accepted by this webhook; it accepts text/plain');
      expect(() => type('json', DEFAULT)).toThrow(/the Content-Type "json" cannot be parsed/);
      expect(() => type('a b/c', DEFAULT)).toThrow(/cannot be parsed/);
    }
    // More distinct values than are kept: the later ones are still parsed, each time.
    for (let i = 0; i < 100; i++) expect(type(`text/x-${i}; q=${i}`, DEFAULT.concat('text/*')).parameters).toEqual({ q: String(i) });
  });

  it('knows when a request has a body', () => {
    expect(hasBody(req({}))).toBe(false);
    expect(hasBody(req({ 'content-length': '0' }))).toBe(false);
    expect(hasBody(req({ 'content-length': '3' }))).toBe(true);
    expect(hasBody(req({ 'transfer-encoding': 'chunked' }))).toBe(true);
  });
});

describe('webhook bodies: parsed only as their declared type', () => {
  it('JSON: parsed; empty is no payload; not JSON is a 400 with a pointer; only UTF-8', async () => {
    expect(await parse('application/json', '{"a":[1,2]}')).toEqual({ body: { a: [1, 2] } });
    expect(await parse('application/vnd.api+json', '{"data":null}')).toEqual({ body: { data: null } });
    expect(await parse('application/json', '  ')).toEqual({ body: undefined });
    await expect(parse('application/json', 'a=1')).rejects.toMatchObject({ status: 400, title: 'Malformed body', issues: [{ pointer: '/' }] });
    await expect(parse('application/json', Buffer.from([0x7b, 0xff, 0x7d]))).rejects.toMatchObject({ status: 400, message: 'the body is not valid utf-8' });
    await expect(parse('application/json; charset=utf-16', '{}')).rejects.toMatchObject({ status: 415, message: 'JSON must be UTF-8 (got charset utf-16)' });
  });

  it('forms: an object without prototype keys; too many parameters is a 400', async () => {
    expect(await parse('application/x-www-form-urlencoded', 'a=1&b[c]=2&__proto__[polluted]=1&constructor[prototype][x]=1')).toEqual({ body: { a: '1', b: { c: '2' } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const many = Array.from({ length: 1001 }, (_, i) => `k${i}=v`).join('&');
    await expect(parse('application/x-www-form-urlencoded', many)).rejects.toMatchObject({ status: 400 });
  });

  it('text, XML and types with a charset: strings in that charset; other types: base64', async () => {
    expect(await parse('text/plain', 'héllo')).toEqual({ body: 'héllo' });
    expect(await parse('text/plain; charset=iso-8859-1', Buffer.from([0x68, 0xe9]))).toEqual({ body: 'hé' });
    await expect(parse('text/plain; charset=klingon', 'x')).rejects.toMatchObject({ status: 415, message: 'charset "klingon" is not supported' });
    expect(await parse('application/xml', '<a/>')).toEqual({ body: '<a/>' });
    expect(await parse('application/octet-stream', Buffer.from([0, 1, 2, 255]))).toEqual({ body: 'AAEC/w==' });
  });

  it('multipart: fields (repeated ones as arrays) and files; a broken body is a 400; a __proto__ field is refused', async () => {
    const boundary = 'XyZ';
    const part = (headers: string, content: string) => `--${boundary}\r\n${headers}\r\n\r\n${content}\r\n`;
    const body =
      part('Content-Disposition: form-data; name="tag"', 'a') +
      part('Content-Disposition: form-data; name="tag"', 'b') +
      part('Content-Disposition: form-data; name="file"; filename="x.txt"\r\nContent-Type: text/plain', 'hello') +
      `--${boundary}--\r\n`;
    expect(await parse(`multipart/form-data; boundary=${boundary}`, body)).toEqual({
      body: { tag: ['a', 'b'] },
      files: [{ field: 'file', filename: 'x.txt', mimeType: 'text/plain', size: 5, data: Buffer.from('hello').toString('base64') }],
    });
    await expect(parse('multipart/form-data', body)).rejects.toMatchObject({ status: 400, message: /multipart body cannot be parsed: Multipart: Boundary not found/ });
    await expect(parse(`multipart/form-data; boundary=${boundary}`, `${part('Content-Disposition: form-data; name="__proto__"', 'x')}--${boundary}--\r\n`)).rejects.toMatchObject({ status: 400, message: 'multipart field name "__proto__" is not allowed' });
  });
});

describe('webhook bodies: which need the depth walk', () => {
  const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
  it('a JSON body is walked whenever the walk could refuse it; text within the limit is not', async () => {
    const maxDepth = 8;
    const bodies = [
      '{"id":"B-1","items":[{"sku":"a","qty":2}]}',
      nested(8),
      nested(9),
      nested(8, '"' + ']'.repeat(40) + '"'),
      nested(8, '"[[[[[[[[[[[[\\"[[[[["'),
      nested(9, '"ünïcödé ✓ \\\\"'),
      `{"a":${nested(9)},"a":1}`, // a duplicate key hides the depth: walked, not refused
      JSON.stringify({ note: '{'.repeat(40), deep: JSON.parse(nested(9)) }),
      ' '.repeat(300) + nested(3),
    ];
    for (const text of bodies) {
      const raw = Buffer.from(text);
      const { body } = await parse('application/json', raw);
      const refused = checkBodyDepth(body, maxDepth) !== null;
      const walked = mayBeTooDeep(type('application/json'), raw, maxDepth);
      if (refused) expect(walked, text).toBe(true);
      expect(walked, text).toBe(text === nested(9) || text.startsWith('[[[[[[[[[') || text.startsWith('{"a":[') || text.includes('"deep"'));
    }
    // Short text cannot be too deep; other types are always walked.
    expect(mayBeTooDeep(type('application/json'), Buffer.from(nested(8)), 8)).toBe(false);
    expect(mayBeTooDeep(type('application/vnd.x+json'), Buffer.from(nested(20)), 8)).toBe(true);
    expect(mayBeTooDeep(type('application/x-www-form-urlencoded'), Buffer.from('a[b][c]=1'), 8)).toBe(true);
  });
});
