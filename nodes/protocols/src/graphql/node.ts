/** The GraphQL node: a query or mutation with variables and an operation name, or the endpoint's schema. */
import type { GraphQLError, OperationDefinitionNode } from 'graphql';
import { defineCredentialType, defineNode, getProperty, NodeInputError, type FlowMessage, type InputContext, type NodeCredential, type NodeIssue } from '@flowcrew/sdk';
import { authHeaders, endpointAuthProperties, withTimeout, type EndpointAuthFields } from '../endpoint-auth.ts';
import { GraphQLCallError, introspect, operationDocuments, postGraphQL, type SchemaSummary } from './client.ts';
import { graphqlLib } from '../libs.ts';

export interface GraphQLProps {
  operation: 'request' | 'introspect';
  url?: string;
  query?: string;
  operationName?: string;
  variables?: Record<string, unknown>;
  variablesFrom: string;
  failOnErrors: boolean;
  validateSchema: boolean;
  timeoutMs: number;
}

export const graphqlCredential = defineCredentialType<EndpointAuthFields>({
  name: 'graphql',
  label: 'GraphQL endpoint',
  description: 'A GraphQL endpoint and how to authenticate to it. The token is only ever sent to this endpoint.',
  schema: { type: 'object', required: ['url'], additionalProperties: false, properties: endpointAuthProperties },
  secret: ['token', 'password'],
  async test(fields, services, signal) {
    try {
      const { summary } = await introspect(services.outbound, fields.url, authHeaders(fields), withTimeout(signal, 15_000));
      const count = (kind: string) => summary.operations.filter((o) => o.kind === kind).length;
      return { ok: true, message: `${new URL(fields.url).host}: schema read, ${count('query')} queries and ${count('mutation')} mutations` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  },
});

const properties = {
  operation: { title: 'Operation', enum: ['request', 'introspect'], default: 'request', description: 'request: run the query or mutation. introspect: the endpoint\'s schema (its queries and mutations with their arguments, and the SDL).' },
  url: { title: 'Endpoint URL', type: 'string', format: 'uri', pattern: '^https?://', description: 'Without a credential: the endpoint (public APIs). With one, the credential\'s endpoint is used.' },
  query: { title: 'Query', type: 'string', 'x-editor': 'code', 'x-optionsSource': 'operations', description: 'The GraphQL document: a query or mutation, with $variables. Checked for syntax when the flow is saved.' },
  operationName: { title: 'Operation name', type: 'string', description: 'Which operation of the document to run, when it has several.' },
  variables: { title: 'Variables', type: 'object', description: 'Fixed variables; those in the message (see "Variables from") are added over them.' },
  variablesFrom: { title: 'Variables from', type: 'string', default: 'variables', description: 'The message property holding variables (an object), e.g. variables or payload.' },
  failOnErrors: { title: 'Fail on errors', type: 'boolean', default: true, description: 'An answer with "errors" fails the invocation (naming them). Off: msg.payload has the partial data and msg.errors the errors.' },
  validateSchema: { title: 'Check against the schema', type: 'boolean', default: false, description: 'Validate the query against the endpoint\'s schema (introspected once per credential revision) before sending it.' },
  timeoutMs: { title: 'Timeout (ms)', type: 'integer', minimum: 100, maximum: 600_000, default: 30_000 },
} as const;

const help = `# GraphQL

Runs a GraphQL **query** or **mutation** against an endpoint (a **graphql** credential holds the URL and its token;
without one, the node's URL is used with no authentication). \`variables\` are merged with \`msg.variables\` (or the
property in \`variablesFrom\`); \`operationName\` picks one operation of a document with several.

\`msg.payload\` is the answer's \`data\`. With **Fail on errors** (default) an answer with \`errors\` fails the
invocation, naming the errors and their paths; turned off, the partial data goes on with \`msg.errors\`.

**introspect** returns the schema: every query and mutation with its arguments and result type, and the whole SDL
(\`msg.payload.sdl\`) — the editor and AI agents use it to write queries.

The query's syntax is checked when the flow is saved. Errors name the host, the operation and what the server
said; HTTP 5xx, 429 and lost connections are retried (per the node's retry settings), everything else is not.`;

/** Operations of a parsed document (for the save-time check and the operation's name in messages). */
function operationsOf(query: string): OperationDefinitionNode[] {
  const { parse, Kind } = graphqlLib();
  return parse(query).definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
}

export const graphqlNode = defineNode<GraphQLProps>({
  type: 'graphql',
  category: 'network',
  label: 'GraphQL',
  icon: 'hub',
  color: '#e535ab',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    additionalProperties: false,
    properties,
    allOf: [{ if: { properties: { operation: { const: 'request' } } }, then: { required: ['query'], properties: { query: {}, operationName: {}, variables: {}, variablesFrom: {}, failOnErrors: {}, validateSchema: {} } } }],
  },
  credentials: { type: graphqlCredential.name, schema: graphqlCredential.schema, required: false },
  help,
  usableAsTool: true,
  optionSources: {
    // The editor's choices for "query": a starting document for each query and mutation of the endpoint's schema.
    async operations({ props, credentials, services, signal }) {
      const fields = credentials as EndpointAuthFields | undefined;
      const url = fields?.url ?? props.url;
      if (!url) throw new Error('set the endpoint (a graphql credential or the URL) to list its operations');
      const { schema, summary } = await introspect(services.outbound, url, authHeaders(fields), signal);
      const documents = operationDocuments(schema);
      return summary.operations.map((o) => ({ value: documents.get(`${o.kind} ${o.name}`)!, label: `${o.kind} ${o.name}: ${o.type}`, ...(o.description ? { description: o.description } : {}) }));
    },
  },
  validate(props) {
    const issues: NodeIssue[] = [];
    if ((props.operation ?? 'request') === 'request' && props.query) {
      try {
        const operations = operationsOf(props.query);
        if (operations.length === 0) issues.push({ pointer: '/query', message: 'the document has no query or mutation' });
        if (props.operationName && !operations.some((o) => o.name?.value === props.operationName)) {
          issues.push({ pointer: '/operationName', message: `the document has no operation "${props.operationName}" (it has: ${operations.map((o) => o.name?.value ?? '(anonymous)').join(', ')})` });
        }
        if (!props.operationName && operations.length > 1) issues.push({ pointer: '/operationName', message: 'the document has several operations: name the one to run' });
      } catch (error) {
        const e = error as GraphQLError;
        const at = e.locations?.[0];
        issues.push({ pointer: '/query', message: `GraphQL syntax error${at ? ` at line ${at.line}, column ${at.column}` : ''}: ${e.message.replace(/^Syntax Error: /, '')}` });
      }
    }
    return issues;
  },
  create(init) {
    const p = { ...Object.fromEntries(Object.entries(properties).flatMap(([k, v]) => ('default' in v ? [[k, v.default]] : []))), ...init.props } as GraphQLProps;
    const credential = init.credential as NodeCredential<EndpointAuthFields> | undefined;
    const endpoint = () => credential?.fields.url ?? p.url;
    if (!endpoint()) throw new Error('the GraphQL node needs an endpoint: a graphql credential or the URL prop');
    const operation = p.query ? operationsOf(p.query).find((o) => !p.operationName || o.name?.value === p.operationName) : undefined;
    const what = p.operation === 'introspect' ? 'introspection' : `${operation?.operation ?? 'query'}${operation?.name ? ` ${operation.name.value}` : ''}`;
    let schemaCache: { revision: number | undefined; url: string; value: Promise<{ summary: SchemaSummary; schema: import('graphql').GraphQLSchema }> } | undefined;
    const schema = (signal: AbortSignal) => {
      const url = endpoint()!;
      if (!schemaCache || schemaCache.revision !== credential?.revision || schemaCache.url !== url) {
        const value = introspect(init.services.outbound, url, authHeaders(credential?.fields), signal);
        value.catch(() => (schemaCache = undefined));
        schemaCache = { revision: credential?.revision, url, value };
      }
      return schemaCache.value;
    };
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const url = endpoint()!;
        const signal = withTimeout(ctx.signal, p.timeoutMs);
        if (p.operation === 'introspect') return { ...msg, payload: (await schema(signal)).summary };
        const fromMsg = getProperty(msg, p.variablesFrom);
        if (fromMsg !== undefined && (typeof fromMsg !== 'object' || fromMsg === null || Array.isArray(fromMsg))) {
          throw new NodeInputError(`GraphQL ${new URL(url).host}: ${what}: msg.${p.variablesFrom} must be an object of variables, got ${Array.isArray(fromMsg) ? 'an array' : typeof fromMsg}`);
        }
        const variables = { ...p.variables, ...(fromMsg as Record<string, unknown> | undefined) };
        if (p.validateSchema) {
          const { validate: validateAgainst, parse } = graphqlLib();
          const problems = validateAgainst((await schema(signal)).schema, parse(p.query!));
          if (problems.length) throw new NodeInputError(`GraphQL ${new URL(url).host}: ${what} does not match the endpoint's schema: ${problems.map((e) => e.message).join('; ')}`);
        }
        const result = await postGraphQL(init.services.outbound, url, { query: p.query!, variables, ...(p.operationName ? { operationName: p.operationName } : {}) }, authHeaders(credential?.fields), signal, what);
        if (result.errors?.length && p.failOnErrors) {
          const said = result.errors.map((e) => `${e.message}${e.path ? ` (at ${e.path.join('.')})` : ''}`).join('; ');
          throw new GraphQLCallError(`GraphQL ${new URL(url).host}: ${what} answered with errors: ${said}`, false, result);
        }
        return { ...msg, payload: result.data, ...(result.errors?.length ? { errors: result.errors } : {}), ...(result.extensions ? { extensions: result.extensions } : {}), statusCode: result.status };
      },
    };
  },
});
