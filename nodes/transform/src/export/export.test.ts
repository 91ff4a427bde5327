/** The export and import nodes: exact file contents, payload or blob, Excel round trips, 1 M rows in flat memory. */
import { afterAll, describe, expect, it } from 'vitest';
import ExcelJS from 'exceljs';
import { isBlobRef, type BlobRef } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, testBlobStore } from '@flowcrew/sdk/testing';
import { importNode } from '../import/node.ts';
import { jsonLinesRows } from '../test/memory.ts';
import { exportNode, type ExportProps } from './node.ts';

afterAll(closeTestServices);

const rows = [
  { id: 1, name: 'Ada, Countess', note: 'said "hi"', tags: ['a', 'b'], active: true, when: null },
  { id: 2, name: 'Grace', note: 'line\nbreak', tags: [], active: false, when: '2026-01-02' },
];

async function blobText(ref: BlobRef): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of await (await testBlobStore()).get(ref)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const exporter = (props: Partial<ExportProps>) => createTestNode(exportNode, props);

describe('export node: formats', () => {
  it('writes CSV with quoting, JSON for nested values, and the header from the first row', async () => {
    const [out] = await (await exporter({ format: 'csv' })).input({ payload: rows });
    expect(out!.msg.payload).toBe('id,name,note,tags,active,when\n1,"Ada, Countess","said ""hi""","[""a"",""b""]",true,\n2,Grace,"line\nbreak",[],false,2026-01-02\n');
    expect(out!.msg.export).toEqual({ format: 'csv', rows: 2, bytes: Buffer.byteLength(out!.msg.payload as string), contentType: 'text/csv; charset=utf-8', fileName: 'export.csv' });
  });

  it('writes CSV with chosen columns, delimiter and BOM', async () => {
    const [out] = await (await exporter({ format: 'csv', columns: ['name', 'id', 'missing'], delimiter: ';', bom: true })).input({ payload: rows });
    expect(out!.msg.payload).toBe('\ufeffname;id;missing\nAda, Countess;1;\nGrace;2;\n');
  });

  it('writes JSON Lines, projected on columns when given', async () => {
    const [all] = await (await exporter({ format: 'jsonl' })).input({ payload: rows });
    expect(all!.msg.payload).toBe(rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const [some] = await (await exporter({ format: 'jsonl', columns: ['id', 'x'] })).input({ payload: rows });
    expect(some!.msg.payload).toBe('{"id":1,"x":null}\n{"id":2,"x":null}\n');
  });

  it('writes XML with escaping, nested elements for objects and arrays, and names made valid', async () => {
    const [out] = await (await exporter({ format: 'xml', rootElement: 'customers', rowElement: 'customer' })).input({
      payload: [{ id: 1, 'first name': 'A & B <c>', '2nd': 'x', address: { city: 'Zürich' }, tags: ['a', 'b'], none: null }],
    });
    expect(out!.msg.payload).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><customers><customer><id>1</id><first_name>A &amp; B &lt;c&gt;</first_name><_2nd>x</_2nd><address><city>Zürich</city></address><tags>a</tags><tags>b</tags><none/></customer></customers>',
    );
  });

  it('writes an Excel workbook to a blob that exceljs reads back, and the import node reads it into rows', async () => {
    const [out] = await (await exporter({ format: 'xlsx', sheetName: 'Customers', output: 'payload' })).input({ payload: rows });
    const ref = out!.msg.payload as BlobRef;
    expect(ref).toMatchObject({ contentType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', name: 'export.xlsx' });
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.read(await (await testBlobStore()).get(ref));
    const sheet = workbook.getWorksheet('Customers')!;
    expect(sheet.getRow(1).values).toEqual([undefined, 'id', 'name', 'note', 'tags', 'active', 'when']);
    expect(sheet.getRow(2).values).toEqual([undefined, 1, 'Ada, Countess', 'said "hi"', '["a","b"]', true]);

    const [back] = await (await createTestNode(importNode, { format: 'xlsx' })).input({ payload: ref });
    expect(back!.msg.payload).toEqual([
      { id: 1, name: 'Ada, Countess', note: 'said "hi"', tags: '["a","b"]', active: true, when: null },
      { id: 2, name: 'Grace', note: 'line\nbreak', tags: '[]', active: false, when: '2026-01-02' },
    ]);
  });
});

describe('export node: where the result goes', () => {
  it('puts a result larger than maxPayloadBytes in a blob with auto, and fails with payload', async () => {
    const many = Array.from({ length: 500 }, (_, i) => ({ id: i, text: 'x'.repeat(20) }));
    const [auto] = await (await exporter({ format: 'csv', maxPayloadBytes: 1000, fileName: 'big.csv' })).input({ payload: many });
    expect(isBlobRef(auto!.msg.payload)).toBe(true);
    const text = await blobText(auto!.msg.payload as BlobRef);
    expect(text.split('\n')).toHaveLength(502);
    expect(auto!.msg.export).toMatchObject({ rows: 500, bytes: Buffer.byteLength(text), fileName: 'big.csv' });
    await expect((await exporter({ format: 'csv', maxPayloadBytes: 1000, output: 'payload' })).input({ payload: many })).rejects.toThrow(
      'export to csv: the result is larger than maxPayloadBytes (1000 bytes): use output "blob" or "auto" for large results',
    );
  });

  it('fails a row that is not an object, naming its position', async () => {
    for (const format of ['csv', 'jsonl', 'xml', 'xlsx'] as const) {
      await expect((await exporter({ format })).input({ payload: [{ a: 1 }, { a: 2 }, 'three'] })).rejects.toThrow(`export to ${format}: row 2 is not an object (got string)`);
    }
  });
});

describe('import node', () => {
  it('reads CSV text and CSV blobs, naming blank and repeated headers', async () => {
    const n = await createTestNode(importNode, { format: 'csv' });
    const [out] = await n.input({ payload: 'a,,a\n1,2,3\n4,5\n' });
    expect(out!.msg.payload).toEqual([{ a: '1', column_2: '2', a_2: '3' }, { a: '4', column_2: '5', a_2: null }]);
    const blob = await (await testBlobStore()).put('\ufeffx;y\n1;2\n');
    const [fromBlob] = await (await createTestNode(importNode, { format: 'csv', delimiter: ';' })).input({ payload: blob });
    expect(fromBlob!.msg.payload).toEqual([{ x: '1', y: '2' }]);
  });

  it('says which sheets a workbook has when the one asked for is not there, and refuses text for Excel', async () => {
    const [out] = await (await exporter({ format: 'xlsx', sheetName: 'Only' })).input({ payload: rows });
    await expect((await createTestNode(importNode, { format: 'xlsx', sheet: 'Other' })).input({ payload: out!.msg.payload })).rejects.toThrow('the workbook has no sheet "Other" (it has "Only")');
    await expect((await createTestNode(importNode, { format: 'xlsx' })).input({ payload: 'a,b' })).rejects.toThrow('import xlsx: msg.payload must be a blob reference (an Excel file is binary), got string');
    const notExcel = await (await testBlobStore()).put('not a zip');
    await expect((await createTestNode(importNode, { format: 'xlsx' })).input({ payload: notExcel })).rejects.toThrow(/the Excel file could not be read/);
  });
});

describe('export and import: round trips', () => {
  it('round-trips 10,000 rows through CSV and Excel blobs and pages', async () => {
    const blobs = await testBlobStore();
    const input = await blobs.put(jsonLinesRows(10_000), { contentType: 'application/x-ndjson' });
    for (const format of ['csv', 'xlsx'] as const) {
      const [exported] = await (await exporter({ format, output: 'blob' })).input({ payload: input });
      const imported = await (await createTestNode(importNode, { format, output: 'pages', pageSize: 2500 })).input({ payload: exported!.msg.payload });
      expect(imported.map((o) => o.msg.page)).toEqual([0, 1, 2, 3].map((index) => ({ index, rows: 2500, rowsSoFar: (index + 1) * 2500, last: index === 3 })));
      const [last] = await (await createTestNode(importNode, { format, output: 'rows', maxRows: 10_000 })).input({ payload: exported!.msg.payload });
      const row = (last!.msg.payload as Array<Record<string, unknown>>)[9_999];
      // CSV has text only; Excel keeps numbers and booleans.
      expect(row).toEqual(format === 'csv'
        ? { id: '10000', name: 'customer 10000', email: 'c10000@example.com', amount: '0', active: 'false', created: '2026-12-03T10:00:00.000Z' }
        : { id: 10000, name: 'customer 10000', email: 'c10000@example.com', amount: 0, active: false, created: '2026-12-03T10:00:00.000Z' });
    }
  }, 30_000);
});
