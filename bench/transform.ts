/**
 * Export / import figures (printed, never asserted): ROWS rows (~130 bytes of JSON each) from a JSON Lines blob
 * through the export node to CSV, JSON Lines, XML and Excel, and back through the import node (CSV, Excel), each
 * with rows/s, output size and the peak RSS above the start (sampled every 100 ms), beside the raw library writing
 * the same rows from memory to /dev/null, a page at a time (the node's overhead as a ratio: reading the blob, checking
 * rows, writing the blob).
 *
 * Usage: node --import tsx bench/transform.ts [--rows 1000000] [--only csv,jsonl,xml,xlsx]
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { stringify } from 'csv-stringify/sync';
import { XMLBuilder } from 'fast-xml-parser';
import ExcelJS from 'exceljs';
import { isBlobRef, type BlobRef } from '../nodes/sdk/src/index.ts';
import { closeTestServices, createTestNode, testBlobStore } from '../nodes/sdk/src/testing.ts';
import { exportNode } from '../nodes/transform/src/export/node.ts';
import { importNode } from '../nodes/transform/src/import/node.ts';
import { jsonLinesRows } from '../nodes/transform/src/test/memory.ts';

const args = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : fallback;
};
const ROWS = Number(option('rows', '1000000'));
const only = option('only', 'csv,jsonl,xml,xlsx').split(',');

async function measured<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number; peakRssMb: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  const t0 = performance.now();
  try {
    const result = await work();
    return { result, seconds: (performance.now() - t0) / 1000, peakRssMb: (Math.max(peak, process.memoryUsage().rss) - start) / 2 ** 20 };
  } finally {
    clearInterval(sampler);
  }
}

const line = (what: string, m: { seconds: number; peakRssMb: number }, extra = '') =>
  console.log(`${what.padEnd(34)} ${String(Math.round(ROWS / m.seconds)).padStart(8)} rows/s  ${m.seconds.toFixed(1).padStart(5)} s  peak RSS +${m.peakRssMb.toFixed(0)} MB${extra}`);

function* memoryRows() {
  for (let i = 1; i <= ROWS; i++) yield { id: i, name: `customer ${i}`, email: `c${i}@example.com`, amount: (i % 1000) / 10, active: i % 3 === 0, created: '2026-12-03T10:00:00.000Z' };
}

/** The library alone: the same rows from memory, a page of 2,000 at a time, to /dev/null. */
async function raw(format: string): Promise<void> {
  const out = createWriteStream('/dev/null');
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  const pages = function* () {
    let page = [];
    for (const row of memoryRows()) {
      page.push(row);
      if (page.length === 2000) yield page.splice(0);
    }
    if (page.length) yield page;
  };
  if (format === 'xlsx') {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
    const sheet = workbook.addWorksheet('Data');
    for (const page of pages()) {
      for (const row of page) sheet.addRow(Object.values(row)).commit();
      await new Promise((r) => setImmediate(r));
    }
    sheet.commit();
    await workbook.commit();
    return;
  }
  const builder = new XMLBuilder({ ignoreAttributes: true, suppressEmptyNode: true });
  let first = true;
  for (const page of pages()) {
    if (format === 'csv') await write(stringify(page, { header: first }));
    else if (format === 'jsonl') await write(page.map((r) => `${JSON.stringify(r)}\n`).join(''));
    else await write(builder.build({ row: page }) as string);
    first = false;
  }
  out.end();
  await once(out, 'finish');
}

const blobs = await testBlobStore();
const source = await measured(() => blobs.put(jsonLinesRows(ROWS), { contentType: 'application/x-ndjson' }));
console.log(`${ROWS} rows, input JSON Lines blob ${(source.result.size / 2 ** 20).toFixed(0)} MB (written in ${source.seconds.toFixed(1)} s)`);

for (const format of only) {
  const library = { csv: 'csv-stringify', jsonl: 'JSON.stringify', xml: 'fast-xml-parser', xlsx: 'exceljs' }[format];
  const baseline = await measured(() => raw(format));
  line(`raw ${library} (memory → /dev/null)`, baseline);
  const node = await createTestNode(exportNode, { format: format as 'csv', pageSize: 2000, output: 'blob' });
  const m = await measured(() => node.input({ payload: source.result }));
  const ref = m.result[0]!.msg.payload as BlobRef;
  line(`export node → ${format} blob`, m, `  ${(ref.size / 2 ** 20).toFixed(0)} MB out, ${(baseline.seconds / m.seconds).toFixed(2)}× the raw library's rate`);
  if ((format === 'csv' || format === 'xlsx') && isBlobRef(ref)) {
    const importer = await createTestNode(importNode, { format, output: 'pages', pageSize: 10_000 });
    line(`import node ${format} → pages`, await measured(() => importer.input({ payload: ref })));
  }
}
await closeTestServices();
