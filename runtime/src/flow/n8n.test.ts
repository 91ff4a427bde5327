/**
 * n8n import: expressions and conditions translate to JSONata, workflows become flows, and the imported flows answer
 * the same requests as n8n did (answers recorded from a real n8n 1.x by fixtures/n8n/record-answers.ts), and a
 * workflow started by its Manual Trigger gives the last node's items n8n's `execute` gave.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import jsonata from 'jsonata';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { importN8n, isN8nExport } from './n8n.ts';
import { translateJs, translateTemplate, UntranslatableExpression } from './n8n-expressions.ts';
import { translateConditions } from './n8n-conditions.ts';
import { N8N_CASES, N8N_FIXTURES, N8N_MANUAL_CASES } from './fixtures/n8n/cases.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures', 'n8n');
const load = async (name: string) => JSON.parse(await readFile(path.join(fixtures, name), 'utf8'));
const evaluate = (expression: string, payload: unknown, extra: Record<string, unknown> = {}) => jsonata(expression).evaluate({ payload, ...extra });

describe('n8n expressions → JSONata', () => {
  const item = { body: { name: 'ada', qty: 3, price: 2.5, tags: ['a', 'vip'], nested: { 'a b': 1 } }, n: 0 };
  it.each([
    ['$json.body.name', 'ada'],
    ['$json["body"]["name"].toUpperCase()', 'ADA'],
    ['$json.body.qty * $json.body.price', 7.5],
    ["'x' + $json.body.qty", 'x3'],
    ['`${$json.body.name}-${$json.body.qty}`', 'ada-3'],
    ['$json.body.missing || "default"', 'default'],
    ['$json.body.missing ?? 5', 5],
    ['$json.body.qty > 2 ? "many" : "few"', 'many'],
    ['$json.body.tags.includes("vip")', true],
    ['$json.body.name.includes("d")', true],
    ['$json.body.tags.length', 2],
    ['$json.body.name.length', 3],
    ['$json.body.tags.join("|")', 'a|vip'],
    ['$json.body.nested["a b"]', 1],
    ['$input.item.json.body.name', 'ada'],
    ['$input.first().json.body.qty', 3],
    ['Math.round($json.body.price)', 3],
    ['!$json.n', true],
    ['{ "who": $json.body.name, "list": [1, $json.body.qty] }', { who: 'ada', list: [1, 3] }],
    ['$json.body.price.toFixed(2)', '2.50'],
    ['$json.body.name.replace("a", "A")', 'Ada'],
    ['Object.keys($json.body.nested).length', 1],
    ['Object.keys($json.body.nested)', ['a b']],
    ['Object.keys($json.body.missing || {}).length', 0],
  ])('%s', async (js, expected) => {
    const refs = new Set<string>();
    expect(await evaluate(translateJs(js, refs).code, item)).toEqual(expected);
  });

  it('reads other nodes through msg.n8n and records which', async () => {
    const refs = new Set<string>();
    const code = translateJs(`$('Set totals').item.json.total + $node["Other node"].json.n`, refs).code;
    expect([...refs].sort()).toEqual(['Other node', 'Set totals']);
    expect(await evaluate(code, {}, { n8n: { 'Set totals': { total: 5 }, 'Other node': { n: 2 } } })).toBe(7);
  });

  it('templates join text and keep a lone value typed', async () => {
    const refs = new Set<string>();
    expect(await evaluate(translateTemplate('Hello {{ $json.name }}, {{ $json.n }}!', refs), { name: 'Ada', n: 2 })).toBe('Hello Ada, 2!');
    expect(await evaluate(translateTemplate('{{ $json.n }}', refs), { n: 2 })).toBe(2);
  });

  it.each([
    ['$json.items.map(i => i.x)', /method \.map\(\) is not translated/],
    ['$execution.id', /\$execution is not translated/],
    ['DateTime.now()', /method \.now\(\) is not translated/],
    ['$json.a.foo()', /method \.foo\(\) is not translated/],
  ])('refuses %s with the reason', (js, reason) => {
    expect(() => translateJs(js, new Set())).toThrow(UntranslatableExpression);
    expect(() => translateJs(js, new Set())).toThrow(reason);
  });
});

describe('n8n conditions → JSONata', () => {
  const cond = (operator: Record<string, string>, leftValue: unknown, rightValue: unknown, caseSensitive = true) =>
    translateConditions({ conditions: { options: { caseSensitive }, conditions: [{ leftValue, rightValue, operator }], combinator: 'and' } }, new Set());
  it.each([
    [{ type: 'string', operation: 'equals' }, 'Ab', 'ab', false, true],
    [{ type: 'string', operation: 'equals' }, 'Ab', 'ab', true, false],
    [{ type: 'string', operation: 'startsWith' }, 'Ada L', 'Ada', true, true],
    [{ type: 'string', operation: 'endsWith' }, 'Ada L', 'L', true, true],
    [{ type: 'string', operation: 'regex' }, 'abc123', '/\\d+$/', true, true],
    [{ type: 'string', operation: 'notEmpty' }, '', '', true, false],
    [{ type: 'number', operation: 'gte' }, 5, 5, true, true],
    [{ type: 'array', operation: 'contains' }, ['a', 'b'], 'b', true, true],
    [{ type: 'array', operation: 'lengthGt' }, ['a', 'b'], 1, true, true],
    [{ type: 'boolean', operation: 'true' }, true, '', true, true],
    [{ type: 'object', operation: 'empty' }, {}, '', true, true],
    [{ type: 'dateTime', operation: 'after' }, '2024-05-02T00:00:00Z', '2024-05-01T00:00:00Z', true, true],
  ])('%j %j %j (case sensitive %s) → %s', async (operator, left, right, caseSensitive, expected) => {
    expect(await evaluate(cond(operator, left, right, caseSensitive), {})).toBe(expected);
  });
});

describe('n8n workflows → flows', () => {
  it('recognises n8n exports and not Flowcrew flows or Node-RED exports', async () => {
    expect(isN8nExport(await load('orders.json'))).toBe(true);
    expect(isN8nExport([await load('orders.json'), await load('legacy-set.json')])).toBe(true);
    expect(isN8nExport({ id: 'f', name: 'x', nodes: [{ id: 'a', type: 'inject' }] })).toBe(false);
    expect(isN8nExport([{ id: 't', type: 'tab' }])).toBe(false);
  });

  it('lists what it cannot translate, and keeps the node in place failing with the reason', () => {
    const wf = {
      name: 'partial', nodes: [
        { id: 'n1', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
        { id: 'n2', name: 'Sheet', type: 'n8n-nodes-base.googleSheets', typeVersion: 4, position: [200, 0], parameters: {} },
        { id: 'n3', name: 'Odd', type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [400, 0], parameters: { assignments: { assignments: [{ name: 'x', value: '={{ $json.items.map(i => i) }}', type: 'string' }] } } },
      ],
      connections: { Start: { main: [[{ node: 'Sheet', type: 'main', index: 0 }]] }, Sheet: { main: [[{ node: 'Odd', type: 'main', index: 0 }]] } },
    };
    const result = importN8n(wf);
    expect(result.unmapped.map((u) => [u.name, u.reason])).toEqual([
      ['Sheet', 'no Flowcrew equivalent for n8n node type "n8n-nodes-base.googleSheets"'],
      ['Odd', 'an expression is not translated: method .map() is not translated'],
    ]);
    const nodes = result.flows[0]!.nodes;
    expect(nodes.find((n) => n.id === 'n1')?.wires).toEqual([['n2']]);
    expect(nodes.find((n) => n.id === 'n2')).toMatchObject({ type: 'change', name: 'Sheet (not imported)', wires: [['n3']] });
  });
});

describe('imported n8n workflows answer as a real n8n did', () => {
  let flowcrew: TestServer;
  let answers: Record<string, { status: number; body: unknown }>;
  beforeAll(async () => {
    answers = JSON.parse(await readFile(path.join(fixtures, 'answers.json'), 'utf8'));
    // The HTTP Request case asks a workflow of the same system (n8n: itself; here: this server on 127.0.0.1).
    flowcrew = await startTestServer({ outboundAllow: ['127.0.0.1'] });
    const workflows = await Promise.all(N8N_FIXTURES.map(load));
    const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', workflows);
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body).toMatchObject({ source: 'n8n', unmapped: [] });
  }, 120_000);
  afterAll(async () => { await flowcrew?.stop(); });

  it.each(N8N_CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const res = await fetch(`${flowcrew.url}/webhook/${c.path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(c.body) });
    const text = await res.text();
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* a text answer */ }
    const expected = answers[c.label];
    expect(expected, `no recorded n8n answer for "${c.label}": run fixtures/n8n/record-answers.ts`).toBeDefined();
    expect(c.statusOnly ? { status: res.status } : { status: res.status, body }).toEqual(c.statusOnly ? { status: expected!.status } : expected);
  });

  // n8n: `n8n execute --id` runs the workflow from its Manual Trigger; here a manual run of the imported flow.
  it.each(N8N_MANUAL_CASES.map((c) => [c.label, c] as const))('%s', async (_label, c) => {
    const expected = answers[c.label] as unknown as { node: string; items: unknown[] } | undefined;
    expect(expected, `no recorded n8n answer for "${c.label}": run fixtures/n8n/record-answers.ts`).toBeDefined();
    const workflow = (await Promise.all(N8N_FIXTURES.map(load))).find((w) => w.id === c.workflowId);
    const nodeId = (workflow.nodes as Array<{ id: string; name: string }>).find((n) => n.name === expected!.node)!.id;
    const started = await flowcrew.api('POST', `/api/v1/flows/n8n-${c.workflowId}/runs`, {});
    expect(started.status).toBe(202);
    const run = (await flowcrew.api('GET', `/api/v1/runs/${(await flowcrew.waitRun(started.body.runId)).id}`)).body;
    expect(run.status).toBe('succeeded');
    const outputs = run.invocations.find((i: { nodeId: string }) => i.nodeId === nodeId)?.outputs as Array<{ msg: { payload: unknown } }> | undefined;
    expect(outputs?.map((o) => o.msg.payload)).toEqual(expected!.items);
  });
});
