import { describe, expect, it } from 'vitest';
import { PERMISSIONS } from '../identity/actor.ts';
import { buildOpenApi, openApiDocument, pathParams } from './openapi.ts';
import { ok, reply, type Route } from './route-table.ts';
import { ROUTES } from './routes/index.ts';

type Operation = { 'x-permission': string; security?: unknown[]; responses: Record<string, unknown>; parameters?: Array<{ name: string; in: string }> };

describe('the OpenAPI document generated from the route table', () => {
  const doc = openApiDocument();
  const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op: op as Operation })));

  it('describes every route of the table, and nothing else', () => {
    expect(operations.map((o) => `${o.method} ${o.path}`).sort()).toEqual(ROUTES.map((r) => `${r.method} ${r.path}`).sort());
  });

  it("names each operation's permission, and documents 401/403 wherever credentials are needed", () => {
    for (const { path, method, op } of operations) {
      expect(['public', 'authenticated', 'user', ...PERMISSIONS], `${method} ${path}`).toContain(op['x-permission']);
      if (op['x-permission'] === 'public') {
        expect(op.security, `${method} ${path}`).toEqual([]);
      } else {
        expect(op.responses, `${method} ${path}`).toHaveProperty('401');
        expect(op.responses, `${method} ${path}`).toHaveProperty('403');
      }
      for (const name of pathParams(path)) expect(op.parameters?.some((p) => p.in === 'path' && p.name === name), `${method} ${path} {${name}}`).toBe(true);
    }
  });

  it('declares bearer tokens and the session cookie as the ways to authenticate', () => {
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['bearer', 'session']);
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }]);
  });

  it('refuses a route whose path parameter is not described, and a route declared twice', () => {
    const route: Route = { method: 'get', path: '/things/{id}', summary: 's', tag: 't', access: 'flow:read', responses: { '200': ok('ok') }, handle: () => reply.json({}) };
    expect(() => buildOpenApi([route])).toThrow(/path parameter \{id\} is not described/);
    const described = { ...route, params: { id: 'Thing id' } };
    expect(() => buildOpenApi([described, described])).toThrow(/declared twice/);
  });
});
