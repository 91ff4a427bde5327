/**
 * More property variants of the most used core nodes (fixtures/node-red-variants.ts), run on a real Node-RED 4 and,
 * imported, on Flowcrew: every answer must be identical. Accepted differences are in node-red-differences.md.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { variantsExport } from './fixtures/node-red-variants.ts';

requireNodeRedInCi();

let nodeRed: NodeRedUnderTest | undefined;
let flowcrew: TestServer | undefined;

const cases: Array<[string, string, unknown, string?]> = [
  ['switch istype string', '/v/switch-types', { v: 'x' }],
  ['switch istype before empty: an empty string', '/v/switch-types', { v: '' }],
  ['switch empty: an empty array', '/v/switch-types', { v: [] }],
  ['switch empty: an empty object', '/v/switch-types', { v: {} }],
  ['switch null', '/v/switch-types', { v: null }],
  ['switch null: a missing property', '/v/switch-types', {}],
  ['switch has key', '/v/switch-types', { v: { k: 0 } }],
  ['switch JSONata expression', '/v/switch-types', { v: [1, 2, 3] }],
  ['switch is true', '/v/switch-types', { v: true }],
  ['switch otherwise', '/v/switch-types', { v: 5 }],
  ['switch == another message property', '/v/switch-compare', { a: 7, b: 7 }],
  ['switch contains', '/v/switch-compare', { a: 'cab', b: 1 }],
  ['switch regex, case-insensitive', '/v/switch-compare', { a: 'Xylo', b: 1 }],
  ['switch >= a number, given a numeric string', '/v/switch-compare', { a: '12', b: 1 }],
  ['switch != empty', '/v/switch-compare', { a: 'zz', b: 1 }],
  ['switch otherwise (empty string)', '/v/switch-compare', { a: '', b: 1 }],
  ['csv objects to text with a column template (legacy mode)', '/v/csv-out-legacy', [{ a: 1, b: 'x,y', c: 'say "hi"' }, { a: 2, b: 'z', d: 'dropped' }]],
  ['csv objects to text with a column template (RFC mode)', '/v/csv-out-rfc', [{ a: 1, b: 'x,y', c: 'say "hi"' }, { a: 2, b: 'z', d: 'dropped' }]],
  ['csv tab-separated text to objects, a line skipped, values as text (legacy)', '/v/csv-in-legacy', 'exported by tool\nname\tage\tnote\nAda\t36\t\nGrace\t085\t"a\tb"\n', 'text/plain'],
  ['csv tab-separated text to objects, a line skipped, values as text (RFC)', '/v/csv-in-rfc', 'exported by tool\nname\tage\tnote\nAda\t36\t\nGrace\t085\t"a\tb"\n', 'text/plain'],
  ['csv RFC: "" vs nothing, numbers, quotes in and after cells, quoted line breaks, all rows in one message', '/v/csv-rfc-in', 'id,name,code,note,"qu""ote"\r\n1,"",007,,x\r\n"2","multi\nline",+44,0x1F,"a""b"\r\n3, 12 ,1e3,"ab"c,d"e\n4,-0.5,Infinity\r5,,,,,extra\n\n', 'text/plain'],
  ['csv RFC: arrays to text, header from the first row, CRLF, separator and quotes quoted', '/v/csv-rfc-out', [[1, 'a;b', 'say "x"'], ['line\nbreak', null, true, { o: 1 }]]],
  ['csv RFC: objects to text without a template, header from the first object', '/v/csv-rfc-out', [{ a: 1, b: 'x"y', n: null }, { a: '2\r\n', c: 3, b: 'z' }]],
  ['csv RFC: a quoted column template with an empty column, a line skipped, joined back', '/v/csv-rfc-template', 'skip me\n1,"Lovelace, Ada",x,hello\n2,Hopper,,\n', 'text/plain'],
  ['join reduce: the average', '/v/reduce', [2, 4, 9]],
  ['split a string into fixed-length chunks', '/v/chunks', 'abcdefgh', 'text/plain'],
  ['template JSON output with a section', '/v/template-json', { name: 'Ada', n: 3, tags: ['a', 'b'] }],
  ['json on another property, both ways', '/v/json-property', { raw: '{"a":[1,2]}', back: { b: true } }],
  ['change: flow context, regex replace, deep copy, move, delete', '/v/change', { n: 5, text: 'ada@home and bob@work', obj: { x: 1 } }],
  ['split an object by key (key to msg.topic), join back into an object', '/v/object', { a: 1, b: 2, c: 3 }],
  ['switch sequence rules (head, index between), sequences recreated', '/v/sequence', ['a', 'b', 'c', 'd', 'e', 'f']],
  ['join merging the objects of a sequence', '/v/merge', [{ a: 1 }, { b: 2 }, { a: 3, c: 4 }]],
  ['template as plain text into another property, then yaml', '/v/plain', { name: 'Ada' }],
  ['range drop: values outside the input range are dropped', '/v/range-drop', [5, 11, -1, 0, 10]],
];

describe.skipIf(!available)('Node-RED compatibility: more property variants of the core nodes, same answers', () => {
  beforeAll(async () => {
    nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-var-');
    await nodeRed.start(variantsExport());
    flowcrew = await startTestServer();
    const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', variantsExport());
    expect(imported.status, JSON.stringify(imported.body)).toBe(201);
    expect(imported.body.unmapped).toEqual([]);
    const url = nodeRed.url;
    await nodeRed.until(() => fetch(`${url}/v/switch-types`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"v":1}' }).then((r) => r.ok));
  }, 90_000);

  afterAll(async () => {
    await nodeRed?.stop();
    await flowcrew?.stop();
  });

  it.each(cases)('%s', async (_label, route, body, contentType) => {
    const expected = await httpExchange(`${nodeRed!.url}${route}`, { body, contentType });
    expect(expected.status).toBe(200);
    expect(await httpExchange(`${flowcrew!.url}/webhook${route}`, { body, contentType })).toEqual(expected);
  });
});
