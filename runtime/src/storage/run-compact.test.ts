import { describe, expect, it } from 'vitest';
import { decodeInvocations, encodeInvocations, INVOCATION_COLUMNS } from './run-compact.ts';

describe('compact history encoding', () => {
  it('text columns come back exactly, whether they need escaping or not; JSON columns are embedded as JSON', () => {
    const texts = ['01a2429f-87fb-747c-b567-5daf976bf7bd', 'node.one', 'a "quoted" id', 'back\\slash', 'line\nbreak', 'tab\there', 'ünïcødé', '', 'x/y:z@w+v', '\u2028'];
    const rows = texts.map((text, seq) => [
      `inv-${seq}`,
      'run-1',
      text,
      text,
      'succeeded',
      1,
      JSON.stringify({ payload: text }),
      JSON.stringify([{ port: 0, msg: { payload: text } }]),
      text === '' ? null : text,
      null,
      seq,
      1796414081019,
      1796414081020,
      1796414081043,
      null,
    ]);
    expect(rows[0]).toHaveLength(INVOCATION_COLUMNS.length);
    const encoded = encodeInvocations(rows);
    // The same bytes as JSON of the rows with the JSON columns parsed.
    expect(encoded).toBe(JSON.stringify(rows.map((row) => row.map((v, c) => (c === 6 || c === 7 ? JSON.parse(v as string) : v)))));
    const decoded = decodeInvocations(encoded);
    decoded.forEach((inv, i) => {
      expect(inv.nodeId).toBe(texts[i]);
      expect(inv.nodeType).toBe(texts[i]);
      expect(inv.error).toBe(texts[i] === '' ? null : texts[i]);
      expect(inv.input).toEqual({ payload: texts[i] });
      expect(inv.outputs).toEqual([{ port: 0, msg: { payload: texts[i] } }]);
    });
  });
});
