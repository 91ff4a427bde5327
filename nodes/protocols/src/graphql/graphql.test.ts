/**
 * The GraphQL node against a real GraphQL server built here with the `graphql` package and served over HTTP by
 * graphql-http (the GraphQL-over-HTTP reference server), behind a bearer token: queries, mutations, variables,
 * operation names, errors, introspection, schema checks and the credential test.
 */
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import type { RuntimeServices } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import type { EndpointAuthFields } from '../endpoint-auth.ts';
import { graphqlCredential, graphqlNode, type GraphQLProps } from './node.ts';

// The server loads graphql the way graphql-http does (CommonJS): one instance of graphql on the server side.
const require = createRequire(import.meta.url);
const { buildSchema } = require('graphql') as typeof import('graphql');
const { createHandler } = require('graphql-http/lib/use/http') as typeof import('graphql-http/lib/use/http');
const schema = buildSchema(`
  "A book in the shop"
  type Book { id: ID!, title: String!, stock: Int! }
  type Query {
    "Find a book by its id"
    book(id: ID!): Book
    books(minStock: Int = 0): [Book!]!
    broken: String
  }
  type Mutation { restock(id: ID!, add: Int!): Book! }
`);
const books = new Map([
  ['1', { id: '1', title: 'Dune', stock: 3 }],
  ['2', { id: '2', title: 'Emma', stock: 0 }],
]);
const root = {
  book: ({ id }: { id: string }) => books.get(id) ?? null,
  books: ({ minStock }: { minStock: number }) => [...books.values()].filter((b) => b.stock >= minStock),
  broken: () => {
    throw new Error('the warehouse is offline');
  },
  restock: ({ id, add }: { id: string; add: number }) => {
    const book = books.get(id);
    if (!book) throw new Error(`no book ${id}`);
    book.stock += add;
    return book;
  },
};
const handler = createHandler({ schema, rootValue: root });
let server: http.Server;
let url: string;
let fields: EndpointAuthFields;
const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/down') return void res.writeHead(503, { 'content-type': 'text/plain' }).end('maintenance');
    if (req.headers.authorization !== 'Bearer s3cret-token') return void res.writeHead(401, { 'content-type': 'text/plain' }).end('missing or wrong token');
    void handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  fields = { url, authType: 'bearer', token: 's3cret-token' };
});
afterAll(async () => {
  await closeTestServices();
  await outbound.close();
  await new Promise((resolve) => server.close(resolve));
});

const run = async (props: Partial<GraphQLProps>, msg = {}, f: EndpointAuthFields | undefined = fields) => {
  const node = await createTestNode(graphqlNode, props, f ? { credentials: f, credential: { id: 'gql' } } : {});
  return (await node.input(msg))[0]!.msg;
};
async function failure(promise: Promise<unknown>): Promise<Error & { retryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('graphql node against a real graphql-http server', () => {
  it('runs a query with variables from props and the message, and picks the named operation', async () => {
    const query = 'query One($id: ID!) { book(id: $id) { title stock } } query Many($min: Int) { books(minStock: $min) { id } }';
    expect((await run({ query, operationName: 'One' }, { variables: { id: '1' } })).payload).toEqual({ book: { title: 'Dune', stock: 3 } });
    expect((await run({ query, operationName: 'Many', variables: { min: 1 } })).payload).toEqual({ books: [{ id: '1' }] });
    expect((await run({ query: 'query($id: ID!) { book(id: $id) { title } }', variablesFrom: 'payload' }, { payload: { id: '2' } })).payload).toEqual({ book: { title: 'Emma' } });
  });

  it('runs a mutation', async () => {
    const msg = await run({ query: 'mutation Restock($id: ID!, $n: Int!) { restock(id: $id, add: $n) { stock } }', variables: { id: '2', n: 5 } });
    expect(msg.payload).toEqual({ restock: { stock: 5 } });
    expect(msg.statusCode).toBe(200);
  });

  it('fails on field errors naming them and their path, or passes partial data on when asked', async () => {
    const error = await failure(run({ query: '{ book(id: "1") { title } broken }' }));
    expect(error.message).toBe(`GraphQL ${new URL(url).host}: query answered with errors: the warehouse is offline (at broken)`);
    expect(error.retryable).toBe(false);
    const partial = await run({ query: '{ book(id: "1") { title } broken }', failOnErrors: false });
    expect(partial.payload).toEqual({ book: { title: 'Dune' }, broken: null });
    expect(partial.errors).toEqual([expect.objectContaining({ message: 'the warehouse is offline', path: ['broken'] })]);
  });

  it('reports what the server said for a query it rejects, an unauthorised call, and a server that is down', async () => {
    const invalid = await failure(run({ query: '{ book(id: "1") { isbn } }' }));
    expect(invalid.message).toMatch(/^GraphQL 127\.0\.0\.1:\d+: query failed: Cannot query field "isbn" on type "Book"\. \(HTTP 400\)$/);
    expect(invalid.retryable).toBe(false);
    const unauthorised = await failure(run({ query: '{ books { id } }' }, {}, { ...fields, token: 'wrong' }));
    expect(unauthorised.message).toMatch(/query failed: HTTP 401: missing or wrong token$/);
    const down = await failure(run({ query: '{ books { id } }' }, {}, { ...fields, url: url.replace('/graphql', '/down') }));
    expect(down.message).toMatch(/query failed: HTTP 503: maintenance$/);
    expect(down.retryable).toBe(true);
    expect((await failure(run({ query: '{ books { id } }' }, { variables: [1] }))).message).toMatch(/msg.variables must be an object of variables, got an array/);
  });

  it('checks the query at save: syntax errors with their position, operation names', () => {
    expect(graphqlNode.validate!({ operation: 'request', query: '{ book(id: "1") { title }', variablesFrom: 'variables', failOnErrors: true, validateSchema: false, timeoutMs: 1000 })).toEqual([
      { pointer: '/query', message: 'GraphQL syntax error at line 1, column 26: Expected Name, found <EOF>.' },
    ]);
    expect(graphqlNode.validate!({ operation: 'request', query: 'query A { books { id } } query B { books { id } }', variablesFrom: 'variables', failOnErrors: true, validateSchema: false, timeoutMs: 1000 })).toEqual([
      { pointer: '/operationName', message: 'the document has several operations: name the one to run' },
    ]);
  });

  it('introspects the schema for the editor and agents, and validates queries against it before sending', async () => {
    const summary = (await run({ operation: 'introspect' })).payload as { operations: Array<{ kind: string; name: string; args: unknown[]; type: string; description?: string }>; sdl: string };
    expect(summary.operations).toContainEqual({ kind: 'query', name: 'book', description: 'Find a book by its id', args: [{ name: 'id', type: 'ID!' }], type: 'Book' });
    expect(summary.operations).toContainEqual({ kind: 'mutation', name: 'restock', args: [{ name: 'id', type: 'ID!' }, { name: 'add', type: 'Int!' }], type: 'Book!' });
    expect(summary.sdl).toContain('type Book {');
    const error = await failure(run({ query: '{ book(id: "1") { isbn } }', validateSchema: true }));
    expect(error.message).toMatch(/query does not match the endpoint's schema: Cannot query field "isbn" on type "Book"/);
  });

  it('the credential test reads the schema, and the outbound guard refuses what the administrator did not allow', async () => {
    const services = { outbound } as unknown as RuntimeServices;
    expect(await graphqlCredential.test!(fields, services, new AbortController().signal)).toEqual({ ok: true, message: `${new URL(url).host}: schema read, 3 queries and 1 mutations` });
    expect((await graphqlCredential.test!({ ...fields, token: 'nope' }, services, new AbortController().signal)).message).toMatch(/HTTP 401/);
    const strict = createOutboundGuard();
    try {
      const node = await createTestNode(graphqlNode, { query: '{ books { id } }' }, { credentials: fields, credential: { id: 'strict' }, services: { outbound: strict } });
      await expect(node.input({})).rejects.toThrow(/127\.0\.0\.1.*FLOWCREW_OUTBOUND_ALLOW/);
    } finally {
      await strict.close();
    }
  });
});
