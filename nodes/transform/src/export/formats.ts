/**
 * Row encoders, one per export format: each takes rows a page at a time and yields the file's bytes as it goes, so
 * a file of any size passes through holding one page (plus the library's small buffers). The libraries do the
 * format: csv-stringify (quoting, BOM), fast-xml-parser's builder (escaping), exceljs's streaming workbook writer.
 */
import { PassThrough } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import type ExcelJS from 'exceljs';
import { loadExcel, loadXmlBuilder } from '../libs.ts';
import type { Row } from '../rows.ts';

export interface EncodeOptions {
  /** Columns, in order (default: the first row's keys). Keys of later rows not listed are left out. */
  columns?: string[];
  csv: { delimiter: string; header: boolean; bom: boolean };
  xml: { rootElement: string; rowElement: string; pretty: boolean };
  xlsx: { sheetName: string };
}

export type Format = 'csv' | 'jsonl' | 'xml' | 'xlsx';

export const CONTENT_TYPES: Record<Format, string> = {
  csv: 'text/csv; charset=utf-8',
  jsonl: 'application/x-ndjson',
  xml: 'application/xml; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
};

export function encode(format: Format, pages: AsyncIterable<Row[]>, options: EncodeOptions): AsyncIterable<Buffer | string> {
  switch (format) {
    case 'csv':
      return csv(pages, options);
    case 'jsonl':
      return jsonLines(pages, options);
    case 'xml':
      return xml(pages, options);
    case 'xlsx':
      return xlsx(pages, options);
  }
}

/** A cell's text for the text formats: objects as JSON, dates as ISO 8601. */
function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

async function* jsonLines(pages: AsyncIterable<Row[]>, options: EncodeOptions): AsyncIterable<string> {
  const columns = options.columns;
  for await (const page of pages) {
    let text = '';
    for (const row of page) text += `${JSON.stringify(columns ? Object.fromEntries(columns.map((c) => [c, row[c] ?? null])) : row)}\n`;
    yield text;
  }
}

async function* csv(pages: AsyncIterable<Row[]>, options: EncodeOptions): AsyncIterable<string> {
  let columns = options.columns;
  let first = true;
  for await (const page of pages) {
    if (page.length === 0) continue;
    columns ??= Object.keys(page[0]!);
    // Columns as objects: a key with a dot is a column name, not a path into the row.
    yield stringify(page, {
      header: first && options.csv.header,
      columns: columns.map((key) => ({ key: key.replace(/\./g, '\\.'), header: key })),
      delimiter: options.csv.delimiter,
      bom: first && options.csv.bom,
      cast: { object: cellText, date: cellText, boolean: (v) => (v ? 'true' : 'false') },
    });
    first = false;
  }
  if (first && options.columns && options.csv.header) yield stringify([], { header: true, columns: options.columns, delimiter: options.csv.delimiter, bom: options.csv.bom });
}

/** XML element names from keys: characters a name cannot have become '_', and a name cannot start with a digit. */
export function elementName(key: string): string {
  let name = key.replace(/[^A-Za-z0-9_.\-\u00C0-\uFFFF]/g, '_');
  if (!/^[A-Za-z_\u00C0-\uFFFF]/.test(name) || /^xml/i.test(name)) name = `_${name}`;
  return name;
}

/** A value as the builder's input: valid element names, dates as text, null as an empty element. */
function xmlValue(value: unknown, names: Map<string, string>): unknown {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => xmlValue(v, names));
  if (typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    let name = names.get(key);
    if (name === undefined) {
      name = elementName(key);
      if (names.size < 10_000) names.set(key, name);
    }
    out[name] = xmlValue(v, names);
  }
  return out;
}

async function* xml(pages: AsyncIterable<Row[]>, options: EncodeOptions): AsyncIterable<string> {
  const pretty = options.xml.pretty;
  const builder = new (await loadXmlBuilder())({ ignoreAttributes: true, format: pretty, indentBy: '  ', suppressEmptyNode: true, processEntities: true });
  const root = elementName(options.xml.rootElement);
  const rowElement = elementName(options.xml.rowElement);
  const names = new Map<string, string>();
  const columns = options.columns;
  yield `<?xml version="1.0" encoding="UTF-8"?>${pretty ? '\n' : ''}<${root}>${pretty ? '\n' : ''}`;
  for await (const page of pages) {
    const rows = page.map((row) => xmlValue(columns ? Object.fromEntries(columns.map((c) => [c, row[c] ?? null])) : row, names));
    let text = builder.build({ [rowElement]: rows }) as string;
    if (pretty) text = text.replace(/^(?=.)/gm, '  ');
    yield text;
  }
  yield `</${root}>${pretty ? '\n' : ''}`;
}

/** Sheets hold 1,048,576 rows: more go on further sheets ("Data (2)", ...), each with the header row. */
const XLSX_MAX_ROWS = 1_048_576;

function xlsxCell(value: unknown): ExcelJS.CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value instanceof Date) return value;
  return cellText(value);
}

/** Yield to the event loop, and wait while more than 4 MB of output are waiting to be read. */
async function drained(stream: PassThrough): Promise<void> {
  do await new Promise((resolve) => setImmediate(resolve));
  while (stream.readableLength > 4 << 20 && !stream.destroyed);
}

async function* xlsx(pages: AsyncIterable<Row[]>, options: EncodeOptions): AsyncIterable<Buffer> {
  const ExcelJS = await loadExcel();
  const stream = new PassThrough();
  // No shared strings and no styles: both are tables kept in memory until the end.
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream, useSharedStrings: false, useStyles: false });
  const writing = (async () => {
    let sheet: ExcelJS.Worksheet | undefined;
    let sheets = 0;
    let inSheet = 0;
    let columns = options.columns;
    for await (const page of pages) {
      for (const row of page) {
        columns ??= Object.keys(row);
        if (!sheet || inSheet >= XLSX_MAX_ROWS) {
          sheet?.commit();
          sheets++;
          sheet = workbook.addWorksheet(sheets === 1 ? options.xlsx.sheetName : `${options.xlsx.sheetName} (${sheets})`.slice(0, 31));
          sheet.addRow(columns).commit();
          inSheet = 1;
        }
        sheet.addRow(columns.map((c) => xlsxCell(row[c]))).commit();
        inSheet++;
      }
      // exceljs gives no back-pressure of its own: let the zip stream drain between pages.
      await drained(stream);
    }
    if (!sheet) workbook.addWorksheet(options.xlsx.sheetName).commit();
    else sheet.commit();
    await workbook.commit();
  })();
  writing.catch((error: Error) => stream.destroy(error));
  for await (const chunk of stream) yield chunk as Buffer;
  await writing;
}
