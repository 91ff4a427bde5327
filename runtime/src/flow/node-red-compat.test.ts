/**
 * Same flow, same requests, two engines: a Node-RED export runs on a real Node-RED (installed from npm into
 * .cache/node-red by scripts/services) and, imported, on Flowcrew; every answer must be identical. The differences
 * that remain (ids, environment, state across restarts, ...) are listed in node-red-differences.md.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeRedUnderTest, httpExchange, nodeRedInstalled as available, requireNodeRedInCi } from '../testing/node-red.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';

requireNodeRedInCi();

let flowcrew: TestServer;
let nodeRed: NodeRedUnderTest | undefined;
let nodeRedUrl = '';

beforeAll(async () => {
  if (!available) return;
  const flows = JSON.parse(await readFile(path.join(import.meta.dirname, 'fixtures', 'node-red-compat.json'), 'utf8'));
  nodeRed = await NodeRedUnderTest.prepare('flowcrew-nodered-');
  await nodeRed.start(flows);
  nodeRedUrl = nodeRed.url;

  flowcrew = await startTestServer();
  const imported = await flowcrew.api('POST', '/api/v1/flows/import?deploy=true', flows);
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  expect(imported.body.unmapped).toEqual([]);

  await nodeRed.until(() => fetch(`${nodeRedUrl}/compat/delay`, { method: 'POST' }).then((r) => r.status === 201));
}, 90_000);

afterAll(async () => {
  await nodeRed?.stop();
  await flowcrew?.stop();
});

const ask = (base: string, route: string, body: unknown, contentType = 'application/json') => httpExchange(`${base}${route}`, { body, contentType });

const cases: Array<[string, string, unknown, string?]> = [
  ['change: jsonata, move, change, delete, json', '/compat/change', { items: [{ price: 2.5 }, { price: 4 }], customer: 'Ada', note: 'foo and foo', secret: 'x' }],
  ['switch: lt', '/compat/switch', { n: -3 }],
  ['switch: between', '/compat/switch', { n: 5 }],
  ['switch: regex on a number', '/compat/switch', { n: 15 }],
  ['switch: otherwise', '/compat/switch', { n: 42 }],
  ['function: word counts', '/compat/function', { text: 'the quick brown fox jumps over the lazy dog The end' }],
  ['csv: header row, numbers parsed, one message', '/compat/csv', 'name,age,city\nAda,36,London\nGrace,85,"New York, NY"\n', 'text/plain'],
  ['split + jsonata + join: a string by lines', '/compat/split', '1\n2\n3\n40', 'text/plain'],
  ['split + join: an array', '/compat/split', [1, 2, 3]],
  ['json + yaml round trip', '/compat/json-yaml', { a: 1, b: [true, null, 'x'], c: { d: 'e' } }],
  ['delay then status code', '/compat/delay', {}],
  ['range: clamp and round a nested property, then roll an angle over', '/compat/range', { v: 13.7, angle: 450 }],
  ['range: scale inside the range', '/compat/range', { v: 3.33, angle: -90 }],
  ['sort: an array property by a JSONata key, descending', '/compat/sort', { people: [{ name: 'a', age: 30 }, { name: 'b', age: 50 }, { name: 'c', age: 40 }] }],
  ['sort: a message sequence as numbers (split, sort, join)', '/compat/sort-seq', ['10', '9', '100', '-1']],
  ['batch: the first group of two, joined by its parts', '/compat/batch', ['a', 'b', 'c']],
  ['filter (rbe): only changes pass, objects compared deeply', '/compat/filter', [1, 1, { a: [1] }, { a: [1] }, 'x']],
  ['filter (deadband 10%): only moves beyond the gap pass', '/compat/deadband', [100, 105, 111, 120]],
  ['trigger: a mustache first value (HTML-escaped)', '/compat/trigger', { name: 'Ada & <Grace>' }],
  ['trigger: a JSON first value, per topic', '/compat/trigger-json', { any: 'thing' }],
  ['link call: a path from a link in to a return-mode link out', '/compat/link-call', { n: 14, keep: 'me' }],
  ['Node-RED 0.x change, switch without value types (gt 5), json pretty "true"', '/compat/variants', { n: 7 }],
  ['the else output through a per-topic queue delay', '/compat/variants', { n: 2 }],
  ['join of Node-RED 4 (useparts false): the count alone makes a group, parts ignored', '/compat/join-useparts', ['a', 'b', 'c']],
  ['split of another property (Node-RED 4) and an automatic join back into it', '/compat/split-property', { list: ['a', 'b', 'c'], keep: 1 }],
  ['date formats (Node-RED 3.1+, moment) in a change and a trigger', '/compat/date-format', { topic: 'd' }],
  ['xml: parse, change an attribute, write back', '/compat/xml', '<order id="7"><item qty="2">mug</item><item>cup &amp; saucer</item></order>', 'text/plain'],
  ['xml: parse with custom attribute and text keys', '/compat/xml-object', '<a b="1">text<c>d</c></a>', 'text/plain'],
  ['html: the inner HTML of list items (void elements, entities)', '/compat/html', "<html><head><title>T</title></head><body><h1>Title &amp; more</h1><ul><li class=\"x\"><a href=\"/a?b=1&amp;c=2\">A <i>b</i></a></li><li>B<br>C</li><li><img src=\"i.png\"></li></ul><p>One</p><p>Two <span>2</span></p></body></html>", 'text/plain'],
  ['html: the text of several selectors', '/compat/html-text', "<html><head><title>T</title></head><body><h1>Title &amp; more</h1><ul><li class=\"x\"><a href=\"/a?b=1&amp;c=2\">A <i>b</i></a></li><li>B<br>C</li><li><img src=\"i.png\"></li></ul><p>One</p><p>Two <span>2</span></p></body></html>", 'text/plain'],
  ['html: attributes and HTML (compl) under a custom key', '/compat/html-compl', "<html><head><title>T</title></head><body><h1>Title &amp; more</h1><ul><li class=\"x\"><a href=\"/a?b=1&amp;c=2\">A <i>b</i></a></li><li>B<br>C</li><li><img src=\"i.png\"></li></ul><p>One</p><p>Two <span>2</span></p></body></html>", 'text/plain'],
];

describe.skipIf(!available)('Node-RED compatibility: the same export gives the same answers', () => {
  it.each(cases)('%s', async (_label, route, body, contentType) => {
    const expected = await ask(nodeRedUrl, route, body, contentType);
    const actual = await ask(flowcrew.url + '/webhook', route, body, contentType);
    expect(actual).toEqual(expected);
  });
});
