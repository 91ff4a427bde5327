/**
 * OpenAPI 3.1 description of /api/v1, generated from the route table (routes/index.ts) and the component schemas
 * (schemas.ts): the document cannot describe a route, permission or body the router does not have, nor miss one.
 */
import { SESSION_COOKIE } from '../identity/sessions.ts';
import { ROUTES } from './routes/index.ts';
import { problem, type ResponseSpec, type Route } from './route-table.ts';
import { componentSchemas } from './schemas.ts';

function response(spec: ResponseSpec) {
  return {
    description: spec.description,
    ...(spec.headers ? { headers: spec.headers } : {}),
    ...(spec.schema ? { content: Object.fromEntries([spec.contentType ?? 'application/json'].flat().map((type) => [type, { schema: spec.schema }])) } : {}),
  };
}

/** What every route of its kind can answer, so no route forgets to document it. */
function commonResponses(route: Route): Record<string, ResponseSpec> {
  const out: Record<string, ResponseSpec> = { '429': problem('Too many requests (rate limit)') };
  if (route.access !== 'public') {
    out['401'] = problem('Not authenticated, or the credential is invalid or expired');
    out['403'] = problem(
      route.access === 'authenticated' ? 'Refused (e.g. a missing CSRF token)' : route.access === 'user' ? 'Only signed-in users (not API tokens)' : `You do not hold ${route.access} (where it is needed)`,
    );
  }
  if (route.params) out['404'] = problem('No such resource, or not one you may see');
  if (route.query || route.headers) out['400'] = problem('Bad parameter');
  if (route.body) {
    out['400'] = problem('Malformed JSON, or a body not matching the schema');
    out['413'] = problem('Body larger than the configured limit');
    out['415'] = problem('A body that is not JSON');
  }
  return out;
}

/** The path parameters named in a template, e.g. ['id', 'userId']. */
export function pathParams(template: string): string[] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
}

function operation(route: Route) {
  const params = pathParams(route.path);
  for (const name of params) {
    if (!route.params?.[name]) throw new Error(`route ${route.method.toUpperCase()} ${route.path}: path parameter {${name}} is not described`);
  }
  const parameters = [
    ...params.map((name) => ({ name, in: 'path', required: true, description: route.params![name], schema: { type: 'string' } })),
    ...Object.entries(route.query ?? {}).map(([name, p]) => ({ name, in: 'query', ...(p.required ? { required: true } : {}), ...(p.description ? { description: p.description } : {}), schema: p.schema })),
    ...Object.entries(route.headers ?? {}).map(([name, p]) => ({ name, in: 'header', ...(p.description ? { description: p.description } : {}), schema: p.schema })),
  ];
  const responses = { ...commonResponses(route), ...route.responses };
  return {
    operationId: `${route.method}${route.path.replace(/\{([^}]+)\}/g, 'By-$1').replace(/(^|[/._-])([a-z])/g, (_, _sep, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9]/g, '')}`,
    summary: route.summary,
    tags: [route.tag],
    'x-permission': route.access,
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(parameters.length ? { parameters } : {}),
    ...(route.body ? { requestBody: { required: route.body.required ?? false, content: { 'application/json': { schema: route.body.schema } } } } : {}),
    responses: Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)).map(([status, spec]) => [status, response(spec)])),
  };
}

export function buildOpenApi(routes: readonly Route[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const item = (paths[route.path] ??= {});
    if (item[route.method]) throw new Error(`route ${route.method.toUpperCase()} ${route.path} is declared twice`);
    item[route.method] = operation(route);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flowcrew runtime API',
      version: '1.0.0',
      description:
        'Flows, deployments, runs, credentials, projects, users, API tokens and the audit log of a Flowcrew runtime. ' +
        'Authenticate with a bearer token (an API token, FLOWCREW_ADMIN_TOKEN, or an OIDC access token) or the session cookie ' +
        '(then send X-CSRF-Token on unsafe methods). Each operation names the permission it needs in x-permission; it is ' +
        "checked against the resource's project. Errors are application/problem+json with JSON pointers.",
    },
    servers: [{ url: '/api/v1' }],
    security: [{ bearer: [] }, { session: [] }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: "An API token ('fct_…'), FLOWCREW_ADMIN_TOKEN, or an OIDC access token" },
        session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE, description: 'Set by POST /auth/login; unsafe methods also need X-CSRF-Token' },
      },
      schemas: componentSchemas,
    },
    paths,
  };
}

let cached: ReturnType<typeof buildOpenApi> | undefined;

export function openApiDocument() {
  cached ??= buildOpenApi(ROUTES);
  return cached;
}
