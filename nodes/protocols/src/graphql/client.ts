/**
 * GraphQL over HTTP (the GraphQL-over-HTTP spec: POST application/json, answers application/graphql-response+json
 * or application/json) through the outbound guard, and the schema by introspection.
 */
import type { GraphQLSchema, IntrospectionQuery } from 'graphql';
import type { OutboundServices } from '@flowcrew/sdk';
import { bodyExcerpt } from '../endpoint-auth.ts';
import { graphqlLib } from '../libs.ts';

export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
}

export interface GraphQLResponse {
  status: number;
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; path?: Array<string | number>; locations?: unknown; extensions?: Record<string, unknown> }>;
  extensions?: Record<string, unknown>;
}

/** A failed GraphQL call: names the endpoint, the operation and what the server said. Retryable for 5xx/429/network. */
export class GraphQLCallError extends Error {
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean, readonly response?: GraphQLResponse) {
    super(message);
    this.name = 'GraphQLCallError';
    this.retryable = retryable;
  }
}

export async function postGraphQL(outbound: OutboundServices, url: string, request: GraphQLRequest, headers: Record<string, string>, signal: AbortSignal, what: string): Promise<GraphQLResponse> {
  const host = new URL(url).host;
  let response: Response;
  try {
    response = await outbound.fetch(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json;q=0.9' },
      body: JSON.stringify(request),
      signal,
    });
  } catch (error) {
    const e = error as Error & { retryable?: boolean; cause?: { code?: string } };
    throw new GraphQLCallError(`GraphQL ${host}: ${what} failed: ${e.name === 'TimeoutError' ? 'no answer in time' : e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`, e.retryable !== false);
  }
  const type = response.headers.get('content-type') ?? '';
  if (!/json/.test(type)) {
    throw new GraphQLCallError(`GraphQL ${host}: ${what} failed: HTTP ${response.status}: ${await bodyExcerpt(response)}`, response.status >= 500 || response.status === 429);
  }
  let body: GraphQLResponse;
  try {
    body = { status: response.status, ...((await response.json()) as Omit<GraphQLResponse, 'status'>) };
  } catch (error) {
    throw new GraphQLCallError(`GraphQL ${host}: ${what} failed: the answer is not JSON (${(error as Error).message})`, false);
  }
  // A request error (syntax, validation, bad variables): no data at all, and HTTP 4xx with the spec's media type.
  if (body.data === undefined || response.status >= 400) {
    const said = body.errors?.map((e) => e.message).join('; ') || `HTTP ${response.status}`;
    throw new GraphQLCallError(`GraphQL ${host}: ${what} failed: ${said}${response.status >= 400 ? ` (HTTP ${response.status})` : ''}`, response.status >= 500 || response.status === 429, body);
  }
  return body;
}

export interface SchemaSummary {
  queryType?: string;
  mutationType?: string;
  /** Every query and mutation field, with its arguments and result type: what the editor offers. */
  operations: Array<{ kind: 'query' | 'mutation'; name: string; description?: string; args: Array<{ name: string; type: string; description?: string }>; type: string }>;
  /** The whole schema in SDL. */
  sdl: string;
}

export async function introspect(outbound: OutboundServices, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ schema: GraphQLSchema; summary: SchemaSummary }> {
  const { buildClientSchema, getIntrospectionQuery, printSchema } = graphqlLib();
  const result = await postGraphQL(outbound, url, { query: getIntrospectionQuery(), operationName: 'IntrospectionQuery' }, headers, signal, 'introspection');
  if (result.errors?.length) throw new GraphQLCallError(`GraphQL ${new URL(url).host}: introspection failed: ${result.errors.map((e) => e.message).join('; ')} (is introspection turned off on the server?)`, false);
  const schema = buildClientSchema(result.data as unknown as IntrospectionQuery);
  const operations: SchemaSummary['operations'] = [];
  for (const [kind, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      operations.push({
        kind,
        name: field.name,
        ...(field.description ? { description: field.description } : {}),
        args: field.args.map((a) => ({ name: a.name, type: String(a.type), ...(a.description ? { description: a.description } : {}) })),
        type: String(field.type),
      });
    }
  }
  return { schema, summary: { queryType: schema.getQueryType()?.name, mutationType: schema.getMutationType()?.name, operations, sdl: printSchema(schema) } };
}

/**
 * A starting document per query and mutation (key "query name"): the operation with every argument as a variable
 * and, for an object result, its scalar fields selected — valid against the schema as it is.
 */
export function operationDocuments(schema: GraphQLSchema): Map<string, string> {
  const { getNamedType, isLeafType, isObjectType } = graphqlLib();
  const documents = new Map<string, string>();
  for (const [kind, type] of [['query', schema.getQueryType()], ['mutation', schema.getMutationType()]] as const) {
    for (const field of Object.values(type?.getFields() ?? {})) {
      const variables = field.args.length ? `(${field.args.map((a) => `$${a.name}: ${String(a.type)}`).join(', ')})` : '';
      const args = field.args.length ? `(${field.args.map((a) => `${a.name}: $${a.name}`).join(', ')})` : '';
      const result = getNamedType(field.type);
      const scalars = isObjectType(result) ? Object.values(result.getFields()).filter((f) => isLeafType(getNamedType(f.type)) && !f.args.some((a) => String(a.type).endsWith('!'))) : [];
      const selection = scalars.length ? ` { ${scalars.map((f) => f.name).join(' ')} }` : !isLeafType(result) ? ' { __typename }' : '';
      documents.set(`${kind} ${field.name}`, `${kind} ${field.name[0]!.toUpperCase()}${field.name.slice(1)}${variables} {\n  ${field.name}${args}${selection}\n}`);
    }
  }
  return documents;
}
