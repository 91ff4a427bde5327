/**
 * HTTP guards (Express middlewares): security headers (helmet, with a CSP the editor works with), CORS (off unless
 * FLOWCREW_CORS_ORIGINS), a Host allow-list against DNS rebinding, an Origin check for cookie-authenticated unsafe
 * requests, and rate limits for sign-in, the API and webhooks.
 */
import type { RequestHandler } from 'express';
import type { RuntimeConfig } from '../config.ts';
import type { Identity } from './identity.ts';

export interface HttpGuards {
  /** Security headers; mount first. */
  helmet: RequestHandler;
  /** CORS for /api (answers preflights); a pass-through when no origin is allowed. */
  cors: RequestHandler;
  /** 421 Misdirected Request for a Host not allowed (DNS rebinding). Mount before everything else. */
  hostCheck: RequestHandler;
  /** 403 for an unsafe request carrying the session cookie whose Origin (or Referer) is foreign. */
  originCheck: RequestHandler;
  rateLimit: { login: RequestHandler; api: RequestHandler; webhook: RequestHandler };
}

export function httpGuards(_config: RuntimeConfig, _identity: Identity): HttpGuards {
  throw new Error('httpGuards: not implemented yet');
}
