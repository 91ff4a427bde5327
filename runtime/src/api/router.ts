/**
 * Builds the /api/v1 Express router from the route table. Each route gets the same chain, in this order:
 * authenticate -> access gate (401 anonymous / 403 lacking the permission anywhere) -> CSRF for cookie sessions ->
 * route rate limit -> body parsing -> body depth guard -> schema validation -> handler. The services behind the
 * handlers check the permission again against the resource's own project (the gate cannot know it).
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { createSchemaValidator } from '@flowcrew/sdk/schema';
import { ProblemError } from '../errors.ts';
import { ajvIssues } from '../flow/validate.ts';
import { can, type Actor } from '../identity/actor.ts';
import type { AuthRequest } from '../identity/types.ts';
import type { Services } from '../services/index.ts';
import { sendProblem, unauthenticated } from './problem.ts';
import type { JsonSchema, Reply, Route, RouteContext } from './route-table.ts';

/** What the router needs from Identity (structural, so tests can hand in a stand-in without the stores). */
export interface Authenticator {
  authenticate(req: AuthRequest): Promise<Actor | null>;
  checkCsrf(actor: Actor, req: Pick<AuthRequest, 'headers'>): boolean;
}

export interface RouterOptions {
  routes: readonly Route[];
  services: Services;
  auth: Authenticator;
  /** Largest accepted body (bytes-parser notation). */
  bodyLimit: string;
  /** Checks parsed bodies (nesting depth) before anything else sees them. */
  bodyGuard?: RequestHandler;
  /** Extra limiter for routes declaring rateLimit: 'login'. */
  loginLimit?: RequestHandler;
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const JSON_TYPES = ['application/json', 'application/*+json'];
/** Refusals on these routes concern identity (users, roles, projects, tokens, the audit log): they are audited. */
// Identity routes, and the admin actions that install code or promote flows between environments.
const AUDITED_TAGS = new Set(['users', 'projects', 'tokens', 'audit', 'packs', 'git']);
const COMPONENTS_ID = 'https://flowcrew.dev/api/components.json';

/** Route schemas refer to '#/components/schemas/X': point them at the one registered components document. */
function absoluteRefs(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(absoluteRefs);
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' && v.startsWith('#/components/') ? COMPONENTS_ID + v : absoluteRefs(v)]),
  );
}

function compilers(components: Record<string, JsonSchema>) {
  const make = (coerceTypes: boolean) => {
    const ajv = createSchemaValidator({ coerceTypes });
    ajv.addSchema({ $id: COMPONENTS_ID, components: { schemas: components } });
    return (schema: JsonSchema) => ajv.compile(absoluteRefs(schema) as JsonSchema);
  };
  return { body: make(false), query: make(true) };
}

/** '/flows/{id}/runs' -> '/flows/:id/runs' */
export function expressPath(template: string): string {
  return template.replace(/\{([^}]+)\}/g, ':$1');
}

function invalidRequest(where: 'body' | 'query', validate: ValidateFunction): ProblemError {
  const issues = ajvIssues(validate.errors);
  const summary = issues.map((i) => `${i.pointer} ${i.message}`).join('; ');
  return new ProblemError(400, where === 'body' ? 'Invalid body' : 'Invalid parameter', `the request ${where === 'body' ? 'body' : 'query'} is invalid: ${summary}`, issues);
}

async function send(res: Response, reply: Reply): Promise<void> {
  const first = reply.stream ? await reply.stream.next() : undefined;
  res.status(reply.status ?? 200);
  for (const [name, value] of Object.entries(reply.headers ?? {})) res.set(name, value);
  if (reply.stream) {
    res.type(reply.contentType ?? 'text/plain');
    for (let chunk = first!; !chunk.done; chunk = await reply.stream.next()) {
      if (!res.write(chunk.value)) await new Promise((resolve) => res.once('drain', resolve));
    }
    res.end();
    return;
  }
  if (reply.body === undefined) {
    res.end();
    return;
  }
  if (reply.contentType) {
    res.type(reply.contentType).send(typeof reply.body === 'string' || Buffer.isBuffer(reply.body) ? reply.body : JSON.stringify(reply.body));
    return;
  }
  res.json(reply.body);
}

const actorOfRequest = (res: Response): Actor | null => (res.locals.actor as Actor | null | undefined) ?? null;

export function buildApiRouter(options: RouterOptions, components: Record<string, JsonSchema>): express.Router {
  const { routes, services, auth } = options;
  const compile = compilers(components);
  const router = express.Router();
  const json = express.json({ limit: options.bodyLimit, strict: false, type: JSON_TYPES });

  for (const route of routes) {
    const access = route.access;
    const queryProps = Object.fromEntries(Object.entries(route.query ?? {}).map(([name, p]) => [name, p.schema]));
    const queryRequired = Object.entries(route.query ?? {}).filter(([, p]) => p.required).map(([name]) => name);
    const checkQuery = route.query ? compile.query({ type: 'object', properties: queryProps, required: queryRequired }) : null;
    const checkBody = route.body && route.body.validate !== false ? compile.body(route.body.schema) : null;

    const authenticate: RequestHandler = async (req, res, next) => {
      try {
        res.locals.actor = await auth.authenticate({ headers: req.headers, ip: req.ip, method: req.method });
        next();
      } catch (error) {
        // A stale cookie or expired token must not lock anyone out of the public routes (sign-in, status).
        if (access === 'public' && error instanceof ProblemError && error.status === 401) {
          res.locals.actor = null;
          return next();
        }
        next(error);
      }
    };

    /** The 403, written to the audit log first when it concerns identity. */
    const forbidden = async (actor: Actor, detail: string) => {
      if (AUDITED_TAGS.has(route.tag)) {
        await services.audit.routeDenied(actor, `${route.method.toUpperCase()} ${route.path}`, detail).catch(() => {
          /* the refusal stands whether or not its audit entry could be written */
        });
      }
      return new ProblemError(403, 'Forbidden', detail);
    };
    const gate: RequestHandler = async (req, res, next) => {
      if (access === 'public') return next();
      const actor = actorOfRequest(res);
      if (!actor) return next(unauthenticated());
      if (access === 'user' && actor.kind !== 'user') return next(await forbidden(actor, 'only a signed-in user can do this, not an API token'));
      if (access !== 'authenticated' && access !== 'user' && !can(actor, access)) {
        return next(await forbidden(actor, `this needs the ${access} permission, which you do not hold`));
      }
      if (UNSAFE.has(req.method) && !auth.checkCsrf(actor, req)) {
        return next(new ProblemError(403, 'Forbidden', 'missing or invalid CSRF token: send the X-CSRF-Token header GET /auth/status gave you'));
      }
      next();
    };

    const chain: RequestHandler[] = [authenticate, gate];
    if (route.rateLimit === 'login' && options.loginLimit) chain.push(options.loginLimit);
    if (route.body) {
      // A body in another type is refused, not ignored: no guessing what a client meant (content-type confusion).
      chain.push((req, _res, next) => {
        const declared = req.headers['content-type'];
        // is() is null without a body, false for a body of another type.
        if (declared && req.is(JSON_TYPES) === false) {
          return next(new ProblemError(415, 'Unsupported Media Type', `the body must be JSON (Content-Type: application/json), not ${declared.split(';')[0]}`));
        }
        next();
      });
      chain.push(json);
      if (options.bodyGuard) chain.push(options.bodyGuard);
    }

    chain.push(async (req: Request, res: Response, next: NextFunction) => {
      try {
        const query: Record<string, unknown> = { ...(req.query as Record<string, unknown>) };
        if (checkQuery && !checkQuery(query)) throw invalidRequest('query', checkQuery);
        const hasBody = req.body !== undefined;
        if (route.body?.required && !hasBody) {
          throw new ProblemError(400, 'Invalid body', 'a JSON body (Content-Type: application/json) is required', [{ pointer: '/', message: 'is required' }]);
        }
        if (checkBody && hasBody && !checkBody(req.body)) throw invalidRequest('body', checkBody);
        const ctx: RouteContext = {
          services,
          actor: actorOfRequest(res),
          params: req.params as Record<string, string>,
          query,
          body: hasBody ? req.body : undefined,
          headers: req.headers,
          ip: req.ip,
          secure: req.secure,
        };
        await send(res, await route.handle(ctx));
      } catch (error) {
        next(error);
      }
    });
    router[route.method](expressPath(route.path), ...chain);
  }

  // A known path with a method it does not support gets 405 and an Allow header, as HTTP says.
  const known = new Map<string, { pattern: RegExp; allow: string[] }>();
  for (const route of routes) {
    const entry = known.get(route.path) ?? { pattern: new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '[^/]+')}$`), allow: [] };
    entry.allow.push(route.method.toUpperCase());
    known.set(route.path, entry);
  }
  router.use((req, res) => {
    const match = [...known.values()].find((r) => r.pattern.test(req.path));
    if (match) {
      res.set('Allow', match.allow.join(', '));
      return sendProblem(res, 405, 'Method Not Allowed', `${req.method} is not supported on ${req.path}; use ${match.allow.join(', ')}`);
    }
    sendProblem(res, 404, 'Not Found', `no API route ${req.method} ${req.originalUrl}`);
  });
  return router;
}
