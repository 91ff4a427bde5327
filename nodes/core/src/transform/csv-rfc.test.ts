/**
 * The csv node in Node-RED 4's RFC 4180 mode (spec "rfc"). Its answers on the cases real flows meet are compared with
 * a real Node-RED 4.1 in runtime/src/flow/node-red-compat-variants.test.ts; these pin the rest (errors, state, limits).
 */
import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { csvNode, type CsvProps } from './csv.ts';
import { CsvParseError, parseRfcCsv, quoteCell } from './csv-rfc-parse.ts';

const rfc = (props: Partial<CsvProps> = {}) => createTestNode(csvNode, { spec: 'rfc', sep: ',', ...props });

describe('RFC 4180 scanner (Node-RED lib/csv)', () => {
  it('tells an empty quoted cell ("") from nothing (null), and ends records at \\r, \\n or \\r\\n', () => {
    const parsed = parseRfcCsv('a,"",,b\r\nc\rd\n', { outputStyle: 'array', dataHasHeaderRow: false });
    expect(parsed.data).toEqual([['col1', 'col2', 'col3', 'col4'], ['a', '', null, 'b'], ['c'], ['d']]);
  });

  it('strict: a quote inside an unquoted cell, data after a closing quote and an unclosed quote are errors at their position', () => {
    const strict = (text: string) => () => parseRfcCsv(text, { strict: true, outputStyle: 'array' });
    expect(strict('ab"c')).toThrow(new CsvParseError('Quote found in the middle of an unquoted field', 2));
    expect(strict('"ab"c')).toThrow('Data found after closing quote');
    expect(strict('"ab')).toThrow('Missing quote, unclosed cell');
  });

  it('relaxed: keeps the stray quote, as Node-RED does', () => {
    expect(parseRfcCsv('ab"c,"x"y,q"\n', { outputStyle: 'array', dataHasHeaderRow: false }).data[1]).toEqual(['ab"c', 'x"y', 'q']);
  });

  it('quotes a cell holding the separator, a quote or a line break; doubles quotes', () => {
    expect(quoteCell('plain')).toBe('plain');
    expect(quoteCell('a;b', { separator: ';' })).toBe('"a;b"');
    expect(quoteCell('say "hi"')).toBe('"say ""hi"""');
    expect(quoteCell('two\r\nlines')).toBe('"two\r\nlines"');
  });

  it('a header record read alone stops after its line break (the cursor is where the data starts)', () => {
    const header = parseRfcCsv('x,"y"\r\n1,2\n', { headersOnly: true, outputStyle: 'array', strict: true });
    expect(header.headers).toEqual(['x', 'y']);
    expect(header.cursor).toBe(7);
  });
});

describe('csv node, RFC 4180 mode', () => {
  it('writes CRLF by default and keeps "" apart from missing cells when asked', async () => {
    const node = await rfc({ temp: 'a,b,c', include_empty_strings: true, include_null_values: true });
    const [row] = await node.input({ payload: '1,"",\n' });
    expect(row!.msg.payload).toEqual({ a: 1, b: '', c: null });
    const [text] = await node.input({ payload: [{ a: 1, b: 'x' }, { a: 2, c: 'y' }] });
    expect(text!.msg.payload).toBe('1,x,\r\n2,,y\r\n');
    expect(text!.msg.columns).toBe('a,b,c');
  });

  it('refuses at deploy a column list that is not one valid CSV record (Node-RED leaves such a node unwired)', async () => {
    await expect(rfc({ temp: 'a,b"c' })).rejects.toThrow('Malformed columns template. "a,b"c" is not one CSV record (RFC 4180 mode): Quote found in the middle of an unquoted field');
  });

  it('a payload neither text nor an object is an error for catch nodes, with a red status cleared by the next message', async () => {
    const node = await rfc();
    await expect(node.input({ payload: 42 })).rejects.toThrow('This node only handles CSV strings or js objects.');
    expect(node.statuses.at(-1)).toEqual({ fill: 'red', shape: 'dot', text: 'This node only handles CSV strings or js objects.' });
    await node.input({ payload: 'a\n' });
    expect(node.statuses.at(-1)).toEqual({});
  });

  it('a header row that is not strict CSV fails the message with a "Malformed columns template." status', async () => {
    const node = await rfc({ hdrin: true });
    await expect(node.input({ payload: 'a,b"c\n1,2\n' })).rejects.toThrow('Quote found in the middle of an unquoted field');
    expect(node.statuses.at(-1)).toEqual({ fill: 'red', shape: 'dot', text: 'Malformed columns template.' });
  });

  it('keeps the header read from the first part for the later parts, and across a restart', async () => {
    const node = await rfc({ hdrin: true, multi: 'mult' });
    const parts = (index: number) => ({ id: 'seq', index, count: 3 });
    expect(await node.input({ payload: 'name,n\n', parts: parts(0) })).toEqual([]);
    expect(await node.input({ payload: 'Ada,1\n', parts: parts(1) })).toEqual([]);
    const restarted = await createTestNode(csvNode, { spec: 'rfc', sep: ',', hdrin: true, multi: 'mult' }, { context: node.context });
    const [all] = await restarted.input({ payload: 'Grace,2\n', parts: parts(2) });
    expect(all!.msg.payload).toEqual([{ name: 'Ada', n: 1 }, { name: 'Grace', n: 2 }]);
    expect(all!.msg.columns).toBe('name,n');
  });

  it('sends the header row once until msg.reset', async () => {
    const node = await rfc({ temp: 'a', hdrout: 'once' });
    expect((await node.input({ payload: { a: 1 } }))[0]!.msg.payload).toBe('a\r\n1\r\n');
    expect((await node.input({ payload: { a: 2 } }))[0]!.msg.payload).toBe('2\r\n');
    expect((await node.input({ payload: { a: 3 }, reset: true }))[0]!.msg.payload).toBe('a\r\n3\r\n');
  });

  it('a data row with more fields than the column limit is refused', async () => {
    const node = await rfc({ multi: 'mult' });
    await expect(node.input({ payload: ','.repeat(20_000) })).rejects.toThrow('A CSV row has more columns than the limit of 16384 (FLOWCREW_CSV_MAX_COLUMNS)');
  });

  it('parses a large document in slices to the same rows', async () => {
    const text = 'a,b\r\n' + Array.from({ length: 20_000 }, (_, i) => `${i},"q ""${i}"""`).join('\r\n');
    const node = await rfc({ hdrin: true, multi: 'mult' });
    const [sent] = await node.input({ payload: text });
    const rows = sent!.msg.payload as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(20_000);
    expect(rows[19_999]).toEqual({ a: 19_999, b: 'q "19999"' });
  });
});
