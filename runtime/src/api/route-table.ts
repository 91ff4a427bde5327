/**
 * The route table's vocabulary. Each REST route is declared once, with its method, path, permission, request and
 * response schemas and handler; the Express router (router.ts), the OpenAPI document (openapi.ts) and the route x
 * role test are all generated from the same declarations, so they cannot drift apart.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { Actor, Permission } from '../identity/actor.ts';
import type { Services } from '../services/index.ts';

/**
 * Who may call a route: a permission (checked by the router as "held in some project", then by the service against
 * the resource's own project), 'authenticated' (any actor: e.g. sign out, list my projects), 'user' (a signed-in
 * person, not an API token: e.g. change my password) or 'public'.
 */
export type Access = Permission | 'authenticated' | 'user' | 'public';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export type JsonSchema = Record<string, unknown>;

export interface ResponseSpec {
  description: string;
  /** Body schema; absent = no body. Problem responses use `problem()`. */
  schema?: JsonSchema;
  /** Defaults to application/json; several when the client chooses (the same schema for each). */
  contentType?: string | string[];
  headers?: Record<string, { description: string; schema: JsonSchema }>;
}

export interface QueryParam {
  schema: JsonSchema;
  description?: string;
  required?: boolean;
}

export interface RouteContext {
  services: Services;
  /** The authenticated actor, or null on a public route called anonymously. */
  actor: Actor | null;
  /** Path parameters, decoded. */
  params: Record<string, string>;
  /** Query parameters, validated and coerced to their schema types. */
  query: Record<string, unknown>;
  /** The parsed body, validated against the route's schema unless the route validates it itself. */
  body: unknown;
  headers: IncomingHttpHeaders;
  /** Client address, for the audit log. */
  ip: string | undefined;
  /** Whether the request arrived over https (directly or per a trusted proxy): decides the cookie's Secure flag. */
  secure: boolean;
}

/** What a handler answers; the router writes it. */
export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string | string[]>;
  /** Defaults to application/json when there is a body. */
  contentType?: string;
  /** A body sent in chunks (exports); its first chunk is awaited before the status is sent, so early errors still become problems. */
  stream?: AsyncIterator<string>;
}

export interface Route {
  method: HttpMethod;
  /** OpenAPI-style template under /api/v1, e.g. '/flows/{id}/deploy'. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  /** Path parameter name -> description. Every {name} in the path must be listed. */
  params?: Record<string, string>;
  query?: Record<string, QueryParam>;
  /** Extra request headers worth documenting (If-Match...). */
  headers?: Record<string, QueryParam>;
  body?: {
    schema: JsonSchema;
    required?: boolean;
    /**
     * false: the handler (or the service behind it) validates the body itself, with semantic checks a schema cannot
     * express (a flow's node types and wires answer 422 with pointers). Default true: the router checks the schema.
     */
    validate?: boolean;
  };
  responses: Record<string, ResponseSpec>;
  /** Which rate limiter applies beyond the general API one ('login' for password attempts). */
  rateLimit?: 'login';
  handle(ctx: RouteContext): Promise<Reply> | Reply;
}

/** The actor of a non-public route: the router has already refused anonymous callers with a 401. */
export function actorOf(ctx: RouteContext): Actor {
  if (!ctx.actor) throw new Error('route handler reached without an actor: its access must not be public');
  return ctx.actor;
}

// ---- helpers for declaring routes ----

export const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const arrayOf = (items: JsonSchema): JsonSchema => ({ type: 'array', items });
export const ok = (description: string, schema?: JsonSchema): ResponseSpec => ({ description, ...(schema ? { schema } : {}) });
export const problem = (description: string): ResponseSpec => ({ description, contentType: 'application/problem+json', schema: ref('Problem') });

export const reply = {
  json: (body: unknown, status = 200, headers?: Reply['headers']): Reply => ({ status, body, headers }),
  created: (body: unknown, location?: string): Reply => ({ status: 201, body, headers: location ? { Location: location } : undefined }),
  accepted: (runId: string): Reply => ({ status: 202, body: { runId, status: 'accepted' }, headers: { Location: `/api/v1/runs/${runId}` } }),
  noContent: (headers?: Reply['headers']): Reply => ({ status: 204, headers }),
};

/** An object schema that refuses unknown properties (typos are errors, not silently ignored fields). */
export function strictObject(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}
