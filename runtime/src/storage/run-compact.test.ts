import { describe, expect, it } from 'vitest';
import type { SqlParam } from './sql-driver.ts';
import { decodeInvocations, encodeInvocations, INVOCATION_COLUMNS, invocationId } from './run-compact.ts';
import type { InvocationRecord } from './types.ts';

const RUN = 'run-1';
const T0 = 1796414081019;

/** A row as run-writes.ts makes it (INVOCATION_COLUMNS order, JSON columns as texts). */
function row(inv: Partial<InvocationRecord> & { id: string; seq: number }): SqlParam[] {
  const r: InvocationRecord = { runId: RUN, nodeId: 'n', nodeType: 'change', status: 'succeeded', attempt: 1, input: null, outputs: null, error: null, parentId: null, createdAt: T0, startedAt: T0 + 1, finishedAt: T0 + 24, ...inv };
  const text = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));
  return [r.id, r.runId, r.nodeId, r.nodeType, r.status, r.attempt, text(r.input), text(r.outputs), r.error, r.parentId, r.seq, r.createdAt, r.startedAt, r.finishedAt, text(r.usage ?? null)];
}

/** What listInvocations returns for rows stored one per invocation (run-reads.ts toInvocation). */
function asRead(r: SqlParam[]): InvocationRecord {
  const parse = (v: SqlParam) => (v === null ? null : JSON.parse(String(v)));
  const usage = parse(r[14]!);
  return { id: r[0], runId: r[1], nodeId: r[2], nodeType: r[3], status: r[4], attempt: r[5], input: parse(r[6]!), outputs: parse(r[7]!), error: r[8], parentId: r[9], seq: r[10], createdAt: r[11], startedAt: r[12], finishedAt: r[13], ...(usage ? { usage } : {}) } as InvocationRecord;
}

describe('compact history encoding', () => {
  it('text columns come back exactly, whether they need escaping or not', () => {
    const texts = ['01a2429f-87fb-747c-b567-5daf976bf7bd', 'node.one', 'a "quoted" id', 'back\\slash', 'line\nbreak', 'tab\there', 'ünïcødé', '', 'x/y:z@w+v', '\u2028'];
    const rows = texts.map((text, seq) =>
      row({ id: `inv-${seq}`, seq, nodeId: text, nodeType: text, error: text === '' ? null : text, parentId: text === '' ? null : text, input: { payload: text }, outputs: [{ port: 0, msg: { payload: text } }] }),
    );
    expect(rows[0]).toHaveLength(INVOCATION_COLUMNS.length);
    expect(decodeInvocations(encodeInvocations(rows), RUN)).toEqual(rows.map(asRead));
  });

  it('stores a message passed along a wire once: the child refers to its parent output, and reads back equal', () => {
    const msg = (n: number) => ({ payload: Object.fromEntries(Array.from({ length: n }, (_, i) => [`step${i}`, i])), _msgid: 'm-1' });
    const rows = Array.from({ length: 10 }, (_, seq) =>
      row({ id: `01a2434f-32c4-71ed-8961-d59bab28d9c${seq}`, seq, parentId: seq === 0 ? null : `01a2434f-32c4-71ed-8961-d59bab28d9c${seq - 1}`, input: msg(seq), outputs: [{ port: 0, msg: msg(seq + 1) }], createdAt: T0 + seq, startedAt: T0 + seq, finishedAt: T0 + seq + 1 }),
    );
    const encoded = encodeInvocations(rows);
    const fullRows = JSON.stringify(rows.map(asRead));
    expect(encoded.length).toBeLessThan(fullRows.length * 0.6);
    const decoded = decodeInvocations(encoded, RUN);
    expect(decoded).toEqual(rows.map(asRead));
    // Each record owns its objects, as records read from rows do.
    expect(decoded[1]!.input).not.toBe(decoded[0]!.outputs![0]!.msg);
  });

  it('keeps an input that is not its parent single output message whole: several outputs, a changed copy, a parent stored elsewhere', () => {
    const rows = [
      row({ id: 'a', seq: 0, input: { payload: 1 }, outputs: [{ port: 0, msg: { payload: 'x' } }, { port: 1, msg: { payload: 'y' } }] }),
      row({ id: 'b', seq: 1, parentId: 'a', input: { payload: 'y' }, outputs: [{ port: 0, msg: { payload: 'y', port: 0, msg: 1 } }] }),
      // Text that ends like the parent's output but is not the whole message.
      row({ id: 'c', seq: 2, parentId: 'b', input: { msg: 1 }, outputs: [] }),
      row({ id: 'd', seq: 3, parentId: 'row-of-an-earlier-batch', input: { payload: 'z' }, outputs: [{ port: 2, msg: 'text' }] }),
      row({ id: 'e', seq: 4, parentId: 'd', input: 'text', outputs: null, status: 'failed', error: 'boom', startedAt: null, finishedAt: null, usage: { inputTokens: 3 } as InvocationRecord['usage'] }),
      row({ id: 'f', seq: 5, parentId: 'd', input: null, outputs: null }),
    ];
    const encoded = encodeInvocations(rows);
    expect(decodeInvocations(encoded, RUN)).toEqual(rows.map(asRead));
    // Only e's input ("text", the single output of d) is a reference.
    expect(JSON.parse(encoded).i.map((r: unknown[]) => r[5])).toEqual([[{ payload: 1 }], [{ payload: 'y' }], [{ msg: 1 }], [{ payload: 'z' }], 0, null]);
  });

  it('still reads version 1 (a bare array of full rows, sessions 8-9)', () => {
    const v1 = '[["i1","r9","n0","inject","succeeded",1,{"payload":{}},[{"port":0,"msg":{"payload":{}}}],null,null,0,1796425593425,1796425593540,1796425593541,null]]';
    expect(decodeInvocations(v1, 'ignored')).toEqual([
      { id: 'i1', runId: 'r9', nodeId: 'n0', nodeType: 'inject', status: 'succeeded', attempt: 1, input: { payload: {} }, outputs: [{ port: 0, msg: { payload: {} } }], error: null, parentId: null, seq: 0, createdAt: 1796425593425, startedAt: 1796425593540, finishedAt: 1796425593541 },
    ]);
  });

  it("leaves out ids the executor derives from the run id and seq, and reads them back; any other id stays whole", () => {
    const rows = [
      row({ id: invocationId(RUN, 0), seq: 0, outputs: [{ port: 0, msg: { payload: 1 } }] }),
      row({ id: invocationId(RUN, 1), seq: 1, parentId: invocationId(RUN, 0), input: { payload: 1 } }),
      // A tool call renumbered after its id was made, a durable step, a parent stored by an earlier commit.
      row({ id: invocationId(RUN, 2), seq: 4, parentId: invocationId(RUN, 1) }),
      row({ id: `${invocationId(RUN, 1)}/fetch`, seq: 3, parentId: invocationId(RUN, 1) }),
      row({ id: invocationId(RUN, 5), seq: 5, parentId: invocationId(RUN, 9) }),
    ];
    const encoded = encodeInvocations(rows);
    expect(JSON.parse(encoded).v).toBe(3);
    expect(JSON.parse(encoded).i.map((r: unknown[]) => r[0])).toEqual([null, null, invocationId(RUN, 2), `${invocationId(RUN, 1)}/fetch`, null]);
    expect(decodeInvocations(encoded, RUN)).toEqual(rows.map(asRead));
  });

  it('still reads version 2 (every id written, session 10)', () => {
    const v2 = '{"v":2,"t":1796425593425,"i":[["i1","n0","inject","succeeded",1,null,[{"port":0,"msg":{"payload":{}}}],null,null,0,0,1,2,null],["i2","n1","change","succeeded",1,0,[{"port":0,"msg":{"payload":2}}],null,0,1,3,3,4,null]]}';
    expect(decodeInvocations(v2, 'r9').map((i) => [i.id, i.parentId, i.input, i.createdAt])).toEqual([
      ['i1', null, null, 1796425593425],
      ['i2', 'i1', { payload: {} }, 1796425593428],
    ]);
  });

  it('refuses a newer version with a clear error', () => {
    expect(() => decodeInvocations('{"v":4,"t":0,"i":[]}', 'r1')).toThrow(/run r1: compact format version 4/);
  });
});
