/**
 * The editor's remote choices (POST /api/v1/node-types/{type}/options/{source}) through a real runtime and its API:
 * a GraphQL endpoint's operations by introspection (a real graphql-http server built here), a WSDL's operations (a
 * real `soap` server), with the node's credential decrypted in the runtime and its secret never in an answer.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import soap from 'soap';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../../../runtime/src/testing/server.ts';

const require = createRequire(import.meta.url);
const { buildSchema, parse, validate } = require('graphql') as typeof import('graphql');
const { createHandler } = require('graphql-http/lib/use/http') as typeof import('graphql-http/lib/use/http');
const schema = buildSchema(`
  type Book { id: ID!, title: String!, stock: Int!, cover(size: Int!): String }
  type Query { book(id: ID!): Book, count: Int! }
  type Mutation { restock(id: ID!, add: Int!): Book! }
`);
const graphqlHandler = createHandler({ schema, rootValue: {} });
const wsdl = readFileSync(new URL('./soap/calculator.wsdl', import.meta.url), 'utf8');

let runtime: TestServer;
let web: http.Server;
let base: string;

beforeAll(async () => {
  web = http.createServer((req, res) => {
    // The GraphQL endpoint wants its token: the credential's, sent by the runtime.
    if (req.url === '/graphql') {
      if (req.headers.authorization !== 'Bearer gql-secret-1') return void res.writeHead(401).end('bad token gql-secret-1?');
      return void graphqlHandler(req, res);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
  soap.listen(web, '/calculator', { CalculatorService: { CalculatorPort: { Add: () => ({ result: 0 }), Divide: () => ({ result: 0 }) } } }, wsdl.replace('http://127.0.0.1:0/calculator', `${base}/calculator`));
  runtime = await startTestServer({ outboundAllow: ['127.0.0.1'] });
});
afterAll(async () => {
  await runtime?.stop();
  await new Promise((resolve) => web?.close(resolve));
});

async function credential(type: string, fields: Record<string, unknown>): Promise<string> {
  const created = await runtime.api('POST', '/api/v1/credentials', { name: `${type} ${Math.random().toString(36).slice(2, 8)}`, type, fields });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

describe('remote options for the editor, through the runtime API', () => {
  it("offers a GraphQL endpoint's queries and mutations as documents valid against its schema", async () => {
    const id = await credential('graphql', { url: `${base}/graphql`, authType: 'bearer', token: 'gql-secret-1' });
    const answer = await runtime.api('POST', '/api/v1/node-types/graphql/options/operations', { credentials: id, props: {} });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const options = answer.body.options as Array<{ value: string; label: string }>;
    expect(options.map((o) => o.label)).toEqual(['query book: Book', 'query count: Int!', 'mutation restock: Book!']);
    expect(options[0]!.value).toBe('query Book($id: ID!) {\n  book(id: $id) { id title stock }\n}');
    for (const o of options) expect(validate(schema, parse(o.value)), o.value).toEqual([]);
    // The schema says where: x-optionsSource on the query prop.
    const types = await runtime.api('GET', '/api/v1/node-types');
    const graphql = (types.body as Array<{ type: string; props: { properties: Record<string, Record<string, unknown>> } }>).find((t) => t.type === 'graphql')!;
    expect(graphql.props.properties.query!['x-optionsSource']).toBe('operations');
  });

  it("offers a WSDL's operations for the SOAP node", async () => {
    const id = await credential('soap', { wsdlUrl: `${base}/calculator?wsdl` });
    const answer = await runtime.api('POST', '/api/v1/node-types/soap/options/operations', { credentials: id });
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.options).toEqual([
      { value: 'Add', label: 'Add (CalculatorService.CalculatorPort)' },
      { value: 'Divide', label: 'Divide (CalculatorService.CalculatorPort)' },
    ]);
  });

  it('says what went wrong without the secret, and 404 for what does not exist', async () => {
    const id = await credential('graphql', { url: `${base}/graphql`, authType: 'bearer', token: 'gql-secret-2' });
    const refused = await runtime.api('POST', '/api/v1/node-types/graphql/options/operations', { credentials: id });
    expect(refused.status).toBe(422);
    expect(refused.body.detail).toMatch(/^graphql: operations: GraphQL 127\.0\.0\.1:\d+: introspection failed: HTTP 401/);
    expect(JSON.stringify(refused.body)).not.toContain('gql-secret-2');
    expect((await runtime.api('POST', '/api/v1/node-types/graphql/options/nope', {})).status).toBe(404);
    expect((await runtime.api('POST', '/api/v1/node-types/no-such-type/options/operations', {})).status).toBe(404);
    expect((await runtime.api('POST', '/api/v1/node-types/graphql/options/operations', { credentials: 'missing' })).status).toBe(404);
  });
});
