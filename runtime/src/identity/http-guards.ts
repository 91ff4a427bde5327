/**
 * HTTP guards (Express middlewares): security headers (helmet, with a CSP the editor works with), CORS (off unless
 * FLOWCREW_CORS_ORIGINS), a Host allow-list against DNS rebinding, an Origin check for cookie-authenticated unsafe
 * requests, and rate limits for sign-in, the API and webhooks (express-rate-limit; memory store, one per process,
 * unless a shared store is plugged in through `options.rateLimitStore`).
 *
 * Order in the app: hostCheck, helmet, cors, then per path: rateLimit.*, originCheck (API), authentication, CSRF.
 */
import type { Logger } from '@flowcrew/sdk';
import corsMiddleware from 'cors';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { rateLimit as expressRateLimit, type Store } from 'express-rate-limit';
import type { IncomingMessage } from 'node:http';
import helmetMiddleware from 'helmet';
import type { RateLimit, RuntimeConfig } from '../config.ts';
import type { Identity } from './identity.ts';
import { SESSION_COOKIE } from './sessions.ts';

export interface HttpGuards {
  /** Security headers; mount early. */
  helmet: RequestHandler;
  /** CORS (answers preflights for allowed origins); a pass-through when FLOWCREW_CORS_ORIGINS is empty. */
  cors: RequestHandler;
  /** 403 for a Host header that is not allowed (DNS rebinding). Mount before everything else. */
  hostCheck: RequestHandler;
  /**
   * 403 for an unsafe request (not GET/HEAD/OPTIONS) without an Authorization header whose Origin (or Referer) is
   * neither this server nor an allowed CORS origin: cross-site requests riding on the session cookie, and cross-site
   * sign-in or setup forms (login CSRF). Requests with no Origin or Referer (not a browser) pass: the CSRF token
   * still guards cookie sessions. Audited.
   */
  originCheck: RequestHandler;
  /** The Host policy as a predicate, for servers that do not pass through Express (the Socket.IO handshake). */
  hostAllowed: (hostHeader: string | undefined) => boolean;
  rateLimit: { login: RequestHandler; api: RequestHandler; webhook: RequestHandler };
}

export interface HttpGuardOptions {
  /** A shared rate-limit store per limiter (e.g. Redis, when FLOWCREW_REDIS_URL is used); default: in memory. */
  rateLimitStore?: (limiter: 'login' | 'api' | 'webhook') => Store;
  log?: Logger;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** A Host value safe to echo into a CSP directive (no spaces, quotes or semicolons). */
const PLAIN_HOST = /^[a-z0-9.-]+(:\d{1,5})?$|^\[[0-9a-f:.]+\](:\d{1,5})?$/i;

function problem(res: Response, status: number, title: string, detail: string, headers: Record<string, string> = {}): void {
  res.status(status).set(headers).type('application/problem+json').send(JSON.stringify({ type: 'about:blank', title, status, detail }));
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** 'Example.com:8420' → 'example.com'; '[::1]:80' → '[::1]'; null when malformed. */
export function hostName(hostHeader: string): string | null {
  const host = hostHeader.trim().toLowerCase();
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    if (end < 0 || (end + 1 < host.length && !/^:\d{1,5}$/.test(host.slice(end + 1)))) return null;
    return host.slice(0, end + 1);
  }
  const match = /^([a-z0-9_.-]+)(?::\d{1,5})?$/.exec(host);
  return match ? match[1]! : null;
}

/** Matcher for FLOWCREW_ALLOWED_HOSTS entries: 'name' (any port), 'name:port', '*.domain' (any subdomain). */
export function hostMatcher(entries: readonly string[]): (hostHeader: string) => boolean {
  const names = new Set<string>(LOOPBACK_NAMES);
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const raw of entries) {
    const entry = raw.trim().toLowerCase();
    if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
    else if (/:\d+$/.test(entry) && !entry.endsWith(']')) exact.add(entry);
    else names.add(entry);
  }
  return (hostHeader) => {
    const header = hostHeader.trim().toLowerCase();
    const name = hostName(header);
    if (name === null) return false;
    return names.has(name) || exact.has(header) || suffixes.some((s) => name.endsWith(s) && name.length > s.length);
  };
}

function passThrough(_req: Request, _res: Response, next: NextFunction): void {
  next();
}

export function httpGuards(config: RuntimeConfig, identity: Identity, options: HttpGuardOptions = {}): HttpGuards {
  const { http } = config;
  const corsOrigins = new Set(http.corsOrigins.map((o) => o.replace(/\/+$/, '').toLowerCase()));
  if (http.redisUrl && !options.rateLimitStore) {
    options.log?.warn('FLOWCREW_REDIS_URL is set but rate limits still count per process (the Redis store is not wired yet).');
  }

  // Host allow-list: on while bound to loopback (a browser page elsewhere could otherwise reach it through DNS
  // rebinding) and whenever FLOWCREW_ALLOWED_HOSTS is set.
  const hostActive = http.allowedHosts !== null || isLoopbackHost(config.host);
  const hostAllowed = hostMatcher(http.allowedHosts ?? []);
  const hostPolicy = (host: string | undefined) => !hostActive || (host !== undefined && hostAllowed(host));
  const hostCheck: RequestHandler = hostActive
    ? (req, res, next) => {
        if (hostPolicy(req.headers.host)) return next();
        problem(res, 403, 'Forbidden', 'This host name is not allowed here. An operator can allow it with FLOWCREW_ALLOWED_HOSTS.');
      }
    : passThrough;

  const oidcOrigin = config.oidc ? new URL(config.oidc.issuer).origin : null;
  // `connect`: the WebSocket source of connect-src, per request (wsSource) or fixed (see helmetGuard below).
  const helmetWith = (connect: string | ((req: IncomingMessage) => string)) => helmetMiddleware({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        // 'unsafe-eval': the editor validates node props with ajv, which compiles each node type's JSON Schema into a
        // function (the runtime's engine and options, so the editor flags what the runtime would refuse). Scripts
        // still load from 'self' only and inline scripts stay refused.
        scriptSrc: ["'self'", "'unsafe-eval'"],
        scriptSrcAttr: ["'none'"],
        // Inline styles: CodeMirror, litegraph and Vue style bindings set them; scripts load from 'self' only.
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        fontSrc: ["'self'", 'data:'],
        // Socket.IO on the same host (ws: is listed for browsers whose 'self' does not cover WebSockets), and the
        // OIDC provider for keycloak-js's token requests and its silent-check iframe.
        connectSrc: ["'self'", connect, ...(oidcOrigin ? [oidcOrigin] : [])],
        frameSrc: oidcOrigin ? [oidcOrigin] : ["'none'"],
        frameAncestors: ["'none'"],
        formAction: ["'self'", ...(oidcOrigin ? [oidcOrigin] : [])],
        objectSrc: ["'none'"],
        workerSrc: ["'self'", 'blob:'],
        manifestSrc: ["'self'"],
      },
    },
    // Over plain http on a LAN these would break the page (upgrade) or do nothing (HSTS); behind https they apply.
    strictTransportSecurity: false,
    xFrameOptions: { action: 'deny' },
    crossOriginOpenerPolicy: oidcOrigin ? { policy: 'same-origin-allow-popups' } : { policy: 'same-origin' },
  });
  // Helmet with a per-request directive builds and validates the whole CSP on every request (~2 % of a webhook
  // request's CPU, session 11); with fixed directives it joins them once. One fixed instance per WebSocket source
  // (a few Host values in practice; past 64, the per-request one).
  const helmet = helmetWith((req) => wsSource(req as Request));
  const helmetByWs = new Map<string, RequestHandler>();
  const helmetGuard: RequestHandler = (req, res, next) => {
    if (req.secure) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    const ws = wsSource(req);
    let fixed = helmetByWs.get(ws);
    if (!fixed && helmetByWs.size < 64) helmetByWs.set(ws, (fixed = helmetWith(ws)));
    (fixed ?? helmet)(req, res, next);
  };

  const cors: RequestHandler =
    corsOrigins.size === 0
      ? passThrough
      : corsMiddleware({
          origin: (origin, callback) => callback(null, origin !== undefined && corsOrigins.has(origin.toLowerCase())),
          credentials: true,
          methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
          allowedHeaders: ['Content-Type', 'Authorization', 'X-CSRF-Token'],
          exposedHeaders: ['Retry-After', 'RateLimit', 'RateLimit-Policy', 'Location'],
          maxAge: 600,
        });

  const originCheck: RequestHandler = (req, res, next) => {
    if (SAFE_METHODS.has(req.method) || req.headers.authorization !== undefined) return next();
    const origin = requestOrigin(req);
    if (origin === undefined) return next(); // not a browser: the CSRF token still guards it
    // Same host (and port) as the request: the scheme is left out, so a TLS-terminating proxy that does not say
    // https (no FLOWCREW_TRUST_PROXY) still lets the editor's own requests through. req.host honours trust proxy.
    if (hostOfOrigin(origin) === (req.host ?? '').toLowerCase() || corsOrigins.has(origin)) return next();
    void identity.audit
      .record(
        { kind: 'anonymous', name: 'unknown' },
        { action: 'auth.csrf', outcome: 'denied', ip: req.ip, detail: { reason: 'foreign origin', origin: origin.slice(0, 200), method: req.method, path: req.path.slice(0, 200), sessionCookie: hasSessionCookie(req) } },
      )
      .catch(() => {});
    problem(res, 403, 'Forbidden', 'Cross-site request refused.');
  };

  const limiter = (name: 'login' | 'api' | 'webhook', limit: RateLimit, extra: { skipSuccessfulRequests?: boolean } = {}): RequestHandler =>
    limit.max === 0
      ? passThrough
      : expressRateLimit({
          windowMs: limit.windowMs,
          limit: limit.max,
          standardHeaders: 'draft-7',
          legacyHeaders: false,
          ...extra,
          ...(options.rateLimitStore ? { store: options.rateLimitStore(name) } : {}),
          handler: (_req, res, _next, opts) => {
            const retry = res.getHeader('Retry-After');
            problem(res, opts.statusCode, 'Too Many Requests', 'Too many requests: retry later.', retry === undefined ? {} : { 'Retry-After': String(retry) });
          },
        });

  return {
    helmet: helmetGuard,
    cors,
    hostCheck,
    originCheck,
    hostAllowed: hostPolicy,
    rateLimit: {
      // Only failed sign-ins count, so a team behind one NAT can still sign in; lock-out handles the rest.
      login: limiter('login', http.rateLimit.login, { skipSuccessfulRequests: true }),
      api: limiter('api', http.rateLimit.api),
      webhook: limiter('webhook', http.rateLimit.webhook),
    },
  };
}

function wsSource(req: Request): string {
  const host = req.headers.host ?? '';
  if (!PLAIN_HOST.test(host)) return "'self'";
  return `${req.secure ? 'wss' : 'ws'}://${host}`;
}

function hostOfOrigin(origin: string): string | null {
  try {
    return new URL(origin).host.toLowerCase();
  } catch {
    return null; // 'null' and other opaque origins
  }
}

function hasSessionCookie(req: Request): boolean {
  return req.headers.cookie?.includes(`${SESSION_COOKIE}=`) === true;
}

/** The Origin header, else the origin of the Referer; lower-case; undefined when the request has neither. */
function requestOrigin(req: Request): string | undefined {
  const origin = req.headers.origin;
  if (typeof origin === 'string') return origin.toLowerCase();
  const referer = req.headers.referer;
  if (typeof referer !== 'string') return undefined;
  try {
    return new URL(referer).origin.toLowerCase();
  } catch {
    return 'null';
  }
}
