/**
 * http-request: Node-RED's "http request" node, on the runtime's outbound guard (services.outbound.fetch), so a flow
 * cannot reach loopback, private or metadata addresses unless an administrator allow-lists them.
 */
import Mustache from 'mustache';
import { defineNode, hostAllowedBy, NodeInputError, OutboundRefusedError, PooledResource, type FlowMessage } from '@flowcrew/sdk';
import { getMessagePropertyOrUndefined } from '@flowcrew/sdk/util';
import { findHeader, headersHash, parseSetCookies, RESPONSE_HEADERS_MARK, updateHeader, userHeaders } from './http-util.ts';
import { encodeBody, escapeStrayPercents, formEncode, responseHeaders } from './http-request-body.ts';
import { applyAuth, AUTH_TYPES, checkAuthFields, httpAuthFieldProperties, OAuth2TokenSource, type AuthType, type HttpAuthFields } from './http-request-auth.ts';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'use'] as const;

/** A header row as Node-RED's editor stores it: a name and a value, each either literal ('other'), from msg ('msg'), or a well-known value. */
export interface HeaderRow {
  keyType: string;
  keyValue?: string;
  valueType: string;
  valueValue?: string;
}

export interface HttpRequestProps {
  /** 'use' takes the method from msg.method. */
  method?: (typeof HTTP_METHODS)[number];
  /** May contain {{mustache}} tags filled from msg; when empty, msg.url is used. */
  url?: string;
  ret?: 'txt' | 'bin' | 'obj';
  /** For GET: turn an object payload into query parameters ('query') or send it as the body ('body', not possible with fetch). */
  paytoqs?: 'ignore' | 'query' | 'body' | boolean;
  /** Node-RED's header rows, or a plain { name: value } object. */
  headers?: HeaderRow[] | Record<string, string>;
  /** Milliseconds; msg.requestTimeout overrides it. */
  timeout?: number;
  /** Node-RED stores '' for basic; digest is not supported. */
  authType?: AuthType;
  /** Header carrying the invocation's idempotency key; '' sends none. */
  idempotencyHeader?: string;
  /**
   * Node-RED's name. true (Flowcrew's default): a request error (no connection, timeout) fails the node. false
   * (Node-RED's default, set on import): it goes to catch nodes AND on as a message with the error text as payload.
   */
  senderr?: boolean;
}

/** The http-auth credential: who we are, and the only hosts that may ever see it. */
export interface HttpAuthCredential {
  user?: string;
  password?: string;
  allowedHosts?: string[];
}

const DEFAULT_TIMEOUT_MS = 120_000;
const MAX_REDIRECTS = 21;
/** Headers fetch refuses or computes itself; a copied-in value would make the request fail or lie about the body. */
const FETCH_MANAGED_HEADERS = ['content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect'];

function headerRows(headers: HttpRequestProps['headers']): HeaderRow[] {
  if (!headers) return [];
  if (Array.isArray(headers)) return headers;
  return Object.entries(headers).map(([name, value]) => ({ keyType: 'other', keyValue: name, valueType: 'other', valueValue: value }));
}

/**
 * One half of a header row: literal, read from msg, or (any other type) the type itself is the text, as in Node-RED.
 * An unreadable msg property leaves the half undefined: Node-RED ignores the error.
 */
function headerPart(type: string, value: string | undefined, msg: FlowMessage): unknown {
  if (type === 'other') return value;
  if (type === 'msg') return value ? getMessagePropertyOrUndefined(msg, value) : undefined;
  return type;
}

/** The request would carry the node's vault credential to a host the credential does not list. */
class CredentialHostError extends Error {}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { message?: string; code?: string } }).cause;
  return cause?.message ?? cause?.code ?? (error as Error).message;
}

/**
 * A request error as Node-RED's http request (on got) reports it with senderr off: the text for catch nodes, the
 * code (ECONNREFUSED, ETIMEDOUT, ...) for msg.statusCode, and the error's toString() that starts msg.payload.
 */
function nodeRedFailure(error: unknown, timedOutAfterMs: number | null): { caught: string; code: string | undefined; text: string } {
  if (timedOutAfterMs !== null) return { caught: 'no response from server', code: 'ETIMEDOUT', text: `TimeoutError: Timeout awaiting 'request' for ${timedOutAfterMs}ms` };
  const code = (error as { cause?: { code?: unknown } }).cause?.code;
  const text = `${(error as { cause?: unknown }).cause ? 'RequestError' : ((error as Error).name ?? 'Error')}: ${describeFailure(error)}`;
  return { caught: text, code: typeof code === 'string' ? code : undefined, text };
}

export const httpRequestNode = defineNode<HttpRequestProps>({
  type: 'http-request',
  category: 'network',
  label: 'http request',
  icon: 'public',
  color: '#e7e7ae',
  inputs: 1,
  outputs: 1,
  usableAsTool: true,
  props: {
    type: 'object',
    properties: {
      method: { title: 'Method', type: 'string', enum: [...HTTP_METHODS], default: 'GET', description: "HTTP method; 'use' takes msg.method" },
      url: { title: 'URL', type: 'string', default: '', format: 'mustache', description: 'URL; {{property}} tags are filled from the message' },
      ret: { title: 'Return', type: 'string', enum: ['txt', 'bin', 'obj'], default: 'txt', description: 'Return a UTF-8 string, base64 binary, or parsed JSON' },
      paytoqs: { title: 'Payload on GET', enum: ['ignore', 'query', 'body', true, false], default: 'ignore', description: 'For GET: what to do with msg.payload' },
      headers: {
        anyOf: [
          {
            type: 'array',
            items: {
              type: 'object',
              properties: { keyType: { type: 'string' }, keyValue: { type: 'string' }, valueType: { type: 'string' }, valueValue: { type: 'string' } },
              required: ['keyType', 'valueType'],
            },
          },
          { type: 'object', additionalProperties: { type: 'string' } },
        ],
        default: [],
        title: 'Headers',
        description: 'Request headers; they override msg.headers',
      },
      timeout: { title: 'Timeout (ms)', type: 'integer', minimum: 1, default: DEFAULT_TIMEOUT_MS, description: 'Milliseconds to wait for the response' },
      authType: { title: 'Authentication', type: 'string', enum: [...AUTH_TYPES], default: 'basic', description: 'How the credential is sent: basic, bearer, apiKey (header or query), oauth2 (client credentials or refresh token); digest is not supported' },
      idempotencyHeader: {
        type: 'string',
        title: 'Idempotency header',
        default: 'Idempotency-Key',
        pattern: "^([!#$%&'*+.^_`|~0-9A-Za-z-]+)?$",
        description: "Header that carries the invocation's idempotency key, so the receiver can drop a repeat; empty: none",
      },
      senderr: {
        title: 'Request errors fail the node',
        type: 'boolean',
        default: true,
        description: 'On: a request error (no connection, timeout) fails the node (retried by its policy, then to catch nodes). Off (Node-RED\'s default): it goes to catch nodes and on as a message with the error text as payload',
      },
    },
  },
  credentials: {
    type: 'http-auth',
    required: false,
    schema: {
      type: 'object',
      required: ['allowedHosts'],
      properties: {
        user: { title: 'User', type: 'string' },
        password: { title: 'Password or token', type: 'string', writeOnly: true, description: 'Password, or the token for bearer auth' },
        allowedHosts: {
          title: 'Allowed hosts',
          type: 'array',
          minItems: 1,
          items: { type: 'string', minLength: 1 },
          description: 'The only hosts this credential is sent to: api.example.com, *.example.com, or host:port',
        },
        ...httpAuthFieldProperties,
      },
    },
  },
  help: `Sends an HTTP request and outputs the response. Works like Node-RED's http request node.

### Properties
- **method**: \`GET\`, \`POST\`, \`PUT\`, \`PATCH\`, \`DELETE\`, \`HEAD\`, \`OPTIONS\`, or \`use\` to take it from \`msg.method\`.
- **url**: the URL. \`{{payload.id}}\`-style mustache tags are filled from the message (HTML-escaped, as in Node-RED; use \`{{{triple}}}\` for raw).
  If empty, \`msg.url\` is used. Without a scheme, \`http://\` is assumed.
- **ret**: \`txt\` (a UTF-8 string), \`obj\` (parsed JSON; left as a string with a warning if it is not JSON),
  or \`bin\` (the raw bytes as a **base64 string**, since Flowcrew messages are JSON).
- **paytoqs**: for GET, \`query\` appends an object \`msg.payload\` as query parameters. \`body\` (a GET body) is not supported by fetch and fails.
- **headers**: header rows \`{keyType, keyValue, valueType, valueValue}\` (Node-RED format) or an object. They override \`msg.headers\`;
  an empty value removes a header.
- **timeout**: milliseconds to wait (default 120000). \`msg.requestTimeout\` overrides it.
- **authType** with credentials \`user\`/\`password\`: \`basic\`, or \`bearer\` (the password is the token). A \`user:pass@\` in the URL also gives basic auth.
  \`apiKey\`: the credential's \`apiKey\` in the header (or query parameter, \`apiKeyIn: query\`) named \`apiKeyName\`.
  \`oauth2\`: a Bearer access token from the credential's \`tokenUrl\`, by the \`client_credentials\` grant (\`clientId\`,
  \`clientSecret\`, \`scope\`) or the \`refresh_token\` grant (the \`refreshToken\` the authorization code flow gave),
  cached until shortly before it expires and fetched again after a 401. The token endpoint must be in \`allowedHosts\`.
- **idempotencyHeader**: the header that carries the invocation's idempotency key (default \`Idempotency-Key\`; empty: none).
  The key (\`runId:nodeId:invocationId:attempt\`) is the same when the runtime runs the request again after a crash,
  so a receiver that honours it performs the side effect once. A header of the same name set by the flow wins.
- **senderr**: on (the default), a request error (no connection, timeout) fails the node: it is retried by the node's
  retry settings, then goes to catch nodes (without one, the run fails). Off (Node-RED's default, what an imported
  Node-RED flow gets unless it had it on): the error goes to catch nodes **and** the message goes on with
  \`msg.payload\` = the error text and the URL (\`RequestError: connect ECONNREFUSED 127.0.0.1:8080 : http://…\`) and
  \`msg.statusCode\` = the error code (\`ECONNREFUSED\`, \`ETIMEDOUT\`, …), as Node-RED does; the run goes on.

### Credentials
An \`http-auth\` credential holds \`user\`, \`password\` and **\`allowedHosts\`**: the only hosts it may be sent to
(\`api.example.com\`, \`*.example.com\`, \`api.example.com:8443\`). A request carrying it to any other host fails, and a
redirect to another origin drops it. Its password is redacted from run records, debug and logs.

### Where it may connect
Requests go through the runtime's outbound guard: loopback, private, link-local, carrier-grade NAT, multicast and
cloud-metadata addresses are refused (after DNS resolution, and again on every redirect) unless an administrator
allow-lists them in \`FLOWCREW_OUTBOUND_ALLOW\`.

### Input
\`msg.payload\` is the body for methods other than GET/HEAD: strings are sent as is, objects as JSON (or form-encoded when
Content-Type is \`application/x-www-form-urlencoded\`). Also read: \`msg.url\`, \`msg.method\`, \`msg.headers\`, \`msg.requestTimeout\`,
\`msg.followRedirects\` (false: do not follow redirects).

### Output
\`msg.payload\` (the body), \`msg.statusCode\`, \`msg.headers\` (lower-case names), \`msg.responseUrl\` (after redirects),
\`msg.redirectList\`, \`msg.responseCookies\` (when the server sets cookies).
Any status code is a normal output (a 404 is not an error); a network failure or timeout fails the node (see **senderr**).
`,
  create(init) {
    const props = init.props;
    const nodeUrl = props.url ?? '';
    const templated = nodeUrl.includes('{{');
    const nodeMethod = (props.method ?? 'GET').toUpperCase();
    const ret = props.ret ?? 'txt';
    const paytoqs = props.paytoqs === true || props.paytoqs === 'query';
    const paytobody = props.paytoqs === 'body';
    const rows = headerRows(props.headers);
    const authType = props.authType || 'basic';
    if (authType === 'digest') throw new Error('http-request: digest authentication is not supported; use basic or bearer');
    const idempotencyHeader = props.idempotencyHeader ?? 'Idempotency-Key';
    const failOnRequestError = props.senderr !== false;
    const credential = init.credentials as HttpAuthCredential | undefined;
    const allowedHosts = Array.isArray(credential?.allowedHosts) ? credential.allowedHosts.filter((h): h is string => typeof h === 'string' && h.trim() !== '') : [];
    if (credential && (credential.user || credential.password) && allowedHosts.length === 0) {
      throw new Error('http-request: the http-auth credential lists no allowedHosts: add the hosts it may be sent to (e.g. api.example.com or *.example.com)');
    }
    const fetchOut = init.services.outbound;
    checkAuthFields(authType, credential as HttpAuthFields | undefined, allowedHosts);
    // OAuth2 tokens: one source per credential revision, shared by the nodes using it (dropped on edit and undeploy).
    const tokenPool =
      authType === 'oauth2'
        ? new PooledResource(init.services.resources, 'core:http-auth:oauth2', async () => new OAuth2TokenSource((init.credential?.fields ?? credential) as HttpAuthFields, fetchOut, init.credential?.writeBack && ((refreshToken) => init.credential!.writeBack!({ refreshToken }, 'the OAuth2 token endpoint rotated the refresh token'))), () => undefined, {
            credential: init.credential,
            idleMs: 60_000,
          })
        : undefined;
    const tokens = tokenPool && (() => tokenPool.use((source) => source));

    return {
      close() {
        tokenPool?.release();
      },
      async onInput(msg, ctx) {
        // --- URL and method, as Node-RED resolves them
        if (msg.url && nodeUrl && msg.url !== nodeUrl) ctx.log.warn('msg.url is ignored: the node has a url configured');
        let url = templated ? Mustache.render(nodeUrl, msg) : nodeUrl || (typeof msg.url === 'string' ? msg.url : '');
        if (!url) throw new NodeInputError('No url specified');
        if (url.includes('://') && !url.startsWith('http')) throw new NodeInputError(`Invalid transport in "${url}": only http:// and https:// are supported`);
        if (!url.startsWith('http://') && !url.startsWith('https://')) url = `http://${url}`;
        url = escapeStrayPercents(url);

        let method = nodeMethod;
        if (typeof msg.method === 'string' && msg.method) {
          if (nodeMethod === 'USE') method = msg.method.toUpperCase();
          else ctx.log.warn('msg.method is ignored: the node has a method configured');
        }
        if (method === 'USE') throw new NodeInputError('method is "use" but msg.method is not set');

        // --- Headers: msg.headers first, then the node's rows win
        const headers: Record<string, unknown> = {};
        for (const [name, value] of Object.entries(userHeaders(msg.headers) ?? {})) updateHeader(headers, name, value);
        for (const row of rows) {
          const name = headerPart(row.keyType, row.keyValue, msg);
          if (typeof name === 'string' && name) updateHeader(headers, name, headerPart(row.valueType, row.valueValue, msg));
        }

        // --- Credentials: the node's, or user:password in the URL (fetch refuses URLs with credentials)
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw new NodeInputError(`Invalid URL "${url}"`);
        }
        const vaultAuth = authType === 'apiKey' || authType === 'oauth2';
        const fromVault = vaultAuth || Boolean(ctx.credentials?.user || ctx.credentials?.password);
        const user = (ctx.credentials?.user as string | undefined) || decodeURIComponent(parsed.username);
        const password = (ctx.credentials?.password as string | undefined) || decodeURIComponent(parsed.password);
        parsed.username = parsed.password = '';
        url = parsed.toString();
        if (authType === 'bearer' && password) updateHeader(headers, 'Authorization', `Bearer ${password}`);
        else if (authType === 'basic' && (user || password)) updateHeader(headers, 'Authorization', `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`);
        // API key and OAuth2: only to the credential's allowedHosts (checked before the token endpoint is asked).
        const credentialHeaders: string[] = ['authorization'];
        if (vaultAuth) {
          if (!hostAllowedBy(allowedHosts, new URL(url))) throw new NodeInputError(`the http-auth credential may not be sent to ${new URL(url).host} (its allowedHosts: ${allowedHosts.join(', ')}): ${method} ${url}`);
          const applied = await applyAuth(authType, ctx.credentials as HttpAuthFields, tokens, ctx.signal);
          for (const [name, value] of Object.entries(applied.headers)) {
            updateHeader(headers, name, value);
            credentialHeaders.push(name.toLowerCase());
          }
          if (applied.query.length) {
            const withKey = new URL(url);
            for (const [name, value] of applied.query) withKey.searchParams.set(name, value);
            url = withKey.toString();
          }
        }

        // --- Body, or query parameters for GET
        let body: Uint8Array<ArrayBuffer> | undefined;
        if (method !== 'GET' && method !== 'HEAD' && msg.payload !== undefined) body = encodeBody(msg.payload, headers);
        if (method === 'GET' && msg.payload !== undefined && paytoqs) {
          const query = formEncode(msg.payload);
          if (query) url += (url.includes('?') ? (url.endsWith('?') ? '' : '&') : '?') + query;
        } else if (method === 'GET' && msg.payload !== undefined && paytobody) {
          throw new NodeInputError('Sending a body with GET is not supported (fetch forbids it); use POST or paytoqs "query"');
        }
        for (const name of FETCH_MANAGED_HEADERS) updateHeader(headers, name, undefined);
        if (idempotencyHeader && findHeader(headers, idempotencyHeader) === undefined) headers[idempotencyHeader] = ctx.idempotencyKey;

        // --- Send, following redirects ourselves so msg.redirectList can be filled
        const requestTimeout = Number(msg.requestTimeout);
        if (msg.requestTimeout !== undefined && !(requestTimeout >= 1)) ctx.log.warn('msg.requestTimeout must be a number of milliseconds ≥ 1; ignored');
        const timeoutMs = requestTimeout >= 1 ? requestTimeout : (props.timeout ?? DEFAULT_TIMEOUT_MS);
        const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(timeoutMs)]);
        const followRedirects = msg.followRedirects !== false;
        const redirectList: Array<{ location: string; cookies?: Record<string, Record<string, string>> }> = [];

        ctx.status({ fill: 'blue', shape: 'dot', text: 'requesting' });
        let response: Response;
        let payload: string | unknown;
        let currentUrl = url;
        try {
          // The vault credential rides only to the hosts it lists (it is dropped on a redirect to another origin).
          let carriesCredential = fromVault && (vaultAuth || findHeader(headers, 'authorization') !== undefined);
          for (;;) {
            if (carriesCredential && !hostAllowedBy(allowedHosts, new URL(currentUrl))) {
              throw new CredentialHostError(`the http-auth credential may not be sent to ${new URL(currentUrl).host} (its allowedHosts: ${allowedHosts.join(', ')})`);
            }
            response = await fetchOut.fetch(currentUrl, { method, headers: headers as Record<string, string>, body, signal, redirect: 'manual' });
            const location = response.headers.get('location');
            if (!followRedirects || !location || response.status < 300 || response.status > 399 || response.status === 304) break;
            if (redirectList.length >= MAX_REDIRECTS) throw new Error(`too many redirects (more than ${MAX_REDIRECTS})`);
            const cookies = response.headers.getSetCookie();
            redirectList.push(cookies.length > 0 ? { location, cookies: parseSetCookies(cookies) } : { location });
            await response.body?.cancel();
            const next = new URL(location, currentUrl);
            // Credentials stay with the origin they were meant for.
            if (next.origin !== new URL(currentUrl).origin) {
              for (const name of credentialHeaders) updateHeader(headers, name, undefined);
              updateHeader(headers, 'cookie', undefined);
              carriesCredential = false;
            }
            // Only 303 turns the request into a body-less GET (got's default, which Node-RED uses).
            if (response.status === 303 && method !== 'HEAD') {
              method = 'GET';
              body = undefined;
              updateHeader(headers, 'content-type', undefined);
            }
            currentUrl = next.toString();
          }
          // An expired or revoked OAuth2 token: fetch a new one next time (the node's retry settings decide when).
          if (tokens && response.status === 401) (await tokens()).forget();
          const bytes = Buffer.from(await response.arrayBuffer());
          payload = ret === 'bin' ? bytes.toString('base64') : bytes.toString('utf8');
        } catch (error) {
          // senderr off (Node-RED's default) sends a request error on; cancellation and refusals still fail the node.
          const sendOn = !failOnRequestError && ctx.error && !ctx.signal.aborted && !(error instanceof OutboundRefusedError || error instanceof CredentialHostError);
          const failure = sendOn ? nodeRedFailure(error, signal.aborted ? timeoutMs : null) : null;
          ctx.status({ fill: 'red', shape: 'ring', text: failure?.code ?? 'failed' });
          if (ctx.signal.aborted) throw ctx.signal.reason ?? error;
          // Refused by the outbound guard or the credential's hosts: the same request would be refused again.
          if (error instanceof OutboundRefusedError || error instanceof CredentialHostError) {
            throw new NodeInputError(`${error.message}: ${method} ${currentUrl}${currentUrl === url ? '' : ` (reached by a redirect from ${url})`}`);
          }
          if (!failure || !ctx.error) {
            if (signal.aborted) throw new Error(`No response from server within ${timeoutMs} ms: ${method} ${url}`);
            throw new Error(`${describeFailure(error)}: ${method} ${url}`);
          }
          // As Node-RED: node.error(err, msg), then the message goes on with the error text.
          ctx.error(failure.caught);
          return { ...msg, payload: `${failure.text} : ${url}`, statusCode: failure.code };
        }

        const resultHeaders = responseHeaders(response);
        if (ret === 'obj') {
          try {
            payload = JSON.parse(response.status === 204 ? '{}' : (payload as string));
          } catch {
            ctx.log.warn('JSON parse error: the response is not JSON, payload left as a string');
          }
        }
        const out: FlowMessage = {
          ...msg,
          payload,
          statusCode: response.status,
          headers: resultHeaders,
          responseUrl: response.url,
          redirectList,
          retry: 0,
        };
        const cookies = resultHeaders['set-cookie'];
        if (Array.isArray(cookies)) out.responseCookies = parseSetCookies(cookies as string[]);
        resultHeaders[RESPONSE_HEADERS_MARK] = headersHash(resultHeaders);
        ctx.status({});
        return out;
      },
    };
  },
});
