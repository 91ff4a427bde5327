/**
 * Webhook bodies, strictly by declared content type (no content-type confusion, cf. n8n CVE-2026-21858): a body is
 * accepted only with a Content-Type the route lists (415 otherwise), is parsed only as that type, and a body that is
 * not what its type says is a 400. Nothing is guessed from the body.
 *
 * - JSON (`application/json`, `*\/*+json`): UTF-8, parsed; an empty body is no payload.
 * - `application/x-www-form-urlencoded`: an object (qs, no prototype keys, bounded depth and parameter count).
 * - `multipart/form-data` (only when the route lists it): busboy; fields → an object, files → `files` (base64).
 * - `text/*`, XML, anything with a charset: a string decoded with that charset.
 * - any other type the route lists: the bytes as a base64 string.
 */
import type { IncomingMessage } from 'node:http';
import type { WebhookFile } from '@flowcrew/sdk';
import { jsonTextTooDeep } from '@flowcrew/sdk/util';
import busboy from 'busboy';
import { parse as parseContentType } from 'content-type';
import qs from 'qs';
import getRawBody from 'raw-body';
import { ProblemError } from '../errors.ts';

export interface DeclaredType {
  /** Lower-case `type/subtype`. */
  mediaType: string;
  parameters: Record<string, string>;
  header: string;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MULTIPART_MAX_FILES = 20;
const MULTIPART_MAX_FIELDS = 1000;
const FORM_MAX_PARAMETERS = 1000;
const FORM_MAX_DEPTH = 20;

const unsupported = (detail: string) => new ProblemError(415, 'Unsupported Media Type', detail);
const malformed = (detail: string, message = detail) => new ProblemError(400, 'Malformed body', detail, [{ pointer: '/', message }]);
const tooLarge = (limit: number) => new ProblemError(413, 'Payload Too Large', `the request body exceeds this webhook's limit of ${limit} bytes`);

/** RFC 9112: a request has a body when it says so by Transfer-Encoding or a non-zero Content-Length. */
export function hasBody(req: IncomingMessage): boolean {
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const length = req.headers['content-length'];
  return length !== undefined && length !== '0';
}

/** Whether `mediaType` is one of `accept` (exact, `type/*`, or `*\/*`). */
export function accepts(accept: readonly string[], mediaType: string): boolean {
  const slash = mediaType.indexOf('/');
  const type = slash < 0 ? mediaType : mediaType.slice(0, slash);
  for (const entry of accept) {
    const wanted = entry.toLowerCase();
    if (wanted === mediaType || wanted === '*/*' || (wanted.endsWith('/*') && wanted.slice(0, -2) === type)) return true;
  }
  return false;
}

/**
 * Content-Type values parsed before (a webhook's callers send the same few): the parse, the media type's check and
 * its lower-casing once per value, not per request. Bounded; a value past the bound is parsed each time. Entries are
 * never handed out to be changed (parseBody only reads the charset).
 */
const parsedTypes = new Map<string, { mediaType: string; parameters: Record<string, string> }>();
const PARSED_TYPES_MAX = 64;

function parseType(header: string): { mediaType: string; parameters: Record<string, string> } {
  const known = parsedTypes.get(header);
  if (known) return known;
  let parsed;
  try {
    parsed = parseContentType(header);
  } catch (error) {
    throw unsupported(`the Content-Type "${header}" cannot be parsed (${(error as Error).message})`);
  }
  const mediaType = parsed.type.toLowerCase();
  if (!/^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(mediaType)) throw unsupported(`the Content-Type "${header}" cannot be parsed (expected type/subtype)`);
  const result = { mediaType, parameters: Object.freeze(parsed.parameters) as Record<string, string> };
  if (parsedTypes.size < PARSED_TYPES_MAX) parsedTypes.set(header, result);
  return result;
}

/** Check the request's Content-Type (and Content-Encoding) against what the route accepts, before reading anything. */
export function declaredType(req: IncomingMessage, accept: readonly string[]): DeclaredType {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    throw unsupported(`Content-Encoding "${encoding}" is not accepted: send the body uncompressed`);
  }
  const header = req.headers['content-type'];
  if (!header) throw unsupported(`a request body needs a Content-Type; this webhook accepts ${accept.join(', ')}`);
  const { mediaType, parameters } = parseType(header);
  if (!accepts(accept, mediaType)) throw unsupported(`Content-Type ${mediaType} is not accepted by this webhook; it accepts ${accept.join(', ')}`);
  return { mediaType, parameters, header };
}

/**
 * Read the raw body, refusing (413) past `limit` bytes, by Content-Length before reading or while reading. One
 * promise per body: raw-body's callback form, not its promise awaited in an async function of our own.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    getRawBody(req, { limit, length: req.headers['content-length'] }, (error, body) => (error ? reject(readError(error, limit)) : resolve(body)));
  });
}

function readError(error: unknown, limit: number): unknown {
  const type = (error as { type?: string }).type;
  if (type === 'entity.too.large') return tooLarge(limit);
  if (type === 'request.size.invalid') return malformed('the body is shorter or longer than its Content-Length');
  if (type === 'request.aborted') return malformed('the request was aborted before its body was complete');
  return error;
}

const isJson = (mediaType: string) => mediaType === 'application/json' || mediaType.endsWith('+json');
const isXml = (mediaType: string) => mediaType === 'application/xml' || mediaType.endsWith('+xml');

/** One strict UTF-8 decoder for every body (a decode without `stream` keeps no state between calls). */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function decode(raw: Buffer, charset: string): string {
  let decoder: TextDecoder;
  if (charset === 'utf-8') decoder = UTF8;
  else {
    try {
      decoder = new TextDecoder(charset, { fatal: true });
    } catch {
      throw unsupported(`charset "${charset}" is not supported`);
    }
  }
  try {
    return decoder.decode(raw);
  } catch {
    throw malformed(`the body is not valid ${charset}`);
  }
}

/**
 * Whether a body parsed by parseBody may be nested deeper than `maxDepth` (then the parsed value is walked, which
 * decides and names where). A JSON value is never deeper than its text's brackets: text whose bracket depth stays
 * within the limit needs no walk (the SDK's scan, on the bytes). Other types: true.
 */
export function mayBeTooDeep(type: DeclaredType, raw: Buffer, maxDepth: number): boolean {
  return !isJson(type.mediaType) || jsonTextTooDeep(raw, maxDepth);
}

/** Parse a raw body as its declared type: at once, except multipart (a promise). Throws a ProblemError. */
export function parseBody(type: DeclaredType, raw: Buffer, limit: number): { body: unknown; files?: WebhookFile[] } | Promise<{ body: unknown; files?: WebhookFile[] }> {
  const charset = type.parameters.charset?.toLowerCase();
  if (isJson(type.mediaType)) {
    if (charset && charset !== 'utf-8' && charset !== 'utf8') throw unsupported(`JSON must be UTF-8 (got charset ${charset})`);
    const text = decode(raw, 'utf-8');
    if (text.trim() === '') return { body: undefined };
    try {
      return { body: JSON.parse(text) };
    } catch (error) {
      throw malformed(`the body is not valid JSON although its Content-Type is ${type.mediaType}: ${(error as Error).message}`, (error as Error).message);
    }
  }
  if (type.mediaType === 'application/x-www-form-urlencoded') {
    try {
      return {
        body: qs.parse(decode(raw, 'utf-8'), { allowPrototypes: false, depth: FORM_MAX_DEPTH, parameterLimit: FORM_MAX_PARAMETERS, throwOnLimitExceeded: true, arrayLimit: 100 }),
      };
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      throw malformed(`the form body cannot be parsed: ${(error as Error).message}`);
    }
  }
  if (type.mediaType === 'multipart/form-data') return parseMultipart(type.header, raw, limit);
  if (type.mediaType.startsWith('text/') || isXml(type.mediaType) || charset) return { body: decode(raw, charset ?? 'utf-8') };
  return { body: raw.toString('base64') };
}

/** multipart/form-data from the (already size-limited) raw body: fields to an object, files kept apart. */
function parseMultipart(header: string, raw: Buffer, limit: number): Promise<{ body: Record<string, unknown>; files: WebhookFile[] }> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: { 'content-type': header }, limits: { files: MULTIPART_MAX_FILES, fields: MULTIPART_MAX_FIELDS, fieldSize: limit, fileSize: limit } });
    } catch (error) {
      return reject(malformed(`the multipart body cannot be parsed: ${(error as Error).message}`));
    }
    const fields: Record<string, unknown> = {};
    const files: WebhookFile[] = [];
    const pending: Array<Promise<void>> = [];
    let failure: ProblemError | undefined;
    const fail = (error: ProblemError) => {
      failure ??= error;
    };
    parser.on('field', (name, value) => {
      if (FORBIDDEN_KEYS.has(name)) return fail(malformed(`multipart field name "${name}" is not allowed`));
      const existing = fields[name];
      fields[name] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
    });
    parser.on('file', (field, stream, info) => {
      const chunks: Buffer[] = [];
      pending.push(
        new Promise<void>((done) => {
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('close', () => {
            const data = Buffer.concat(chunks);
            files.push({ field, filename: info.filename ?? '', mimeType: info.mimeType, size: data.length, data: data.toString('base64') });
            done();
          });
        }),
      );
    });
    parser.on('filesLimit', () => fail(new ProblemError(413, 'Payload Too Large', `a multipart body may carry at most ${MULTIPART_MAX_FILES} files`)));
    parser.on('fieldsLimit', () => fail(new ProblemError(413, 'Payload Too Large', `a multipart body may carry at most ${MULTIPART_MAX_FIELDS} fields`)));
    parser.on('error', (error) => reject(malformed(`the multipart body cannot be parsed: ${(error as Error).message}`)));
    parser.on('close', () => {
      Promise.all(pending).then(() => (failure ? reject(failure) : resolve({ body: fields, files })), reject);
    });
    parser.end(raw);
  });
}
