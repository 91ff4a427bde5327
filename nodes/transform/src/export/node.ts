/** The export node: rows (an array, or a JSON Lines blob of any size) to CSV, JSON Lines, XML or Excel, streamed. */
import { defineNode, getProperty, NodeInputError, type FlowMessage, type JsonSchema } from '@flowcrew/sdk';
import { withDefaults } from '../defaults.ts';
import { collectOutput, objectPages, rowPages, type OutputMode } from '../rows.ts';
import { CONTENT_TYPES, encode, type Format } from './formats.ts';

export interface ExportProps {
  format: Format;
  rowsFrom: string;
  columns?: string[];
  output: OutputMode;
  maxPayloadBytes: number;
  fileName?: string;
  pageSize: number;
  delimiter: string;
  header: boolean;
  bom: boolean;
  rootElement: string;
  rowElement: string;
  pretty: boolean;
  sheetName: string;
}

const EXTENSIONS: Record<Format, string> = { csv: 'csv', jsonl: 'jsonl', xml: 'xml', xlsx: 'xlsx' };

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { title: 'Format', enum: ['csv', 'jsonl', 'xml', 'xlsx'], default: 'csv', description: 'csv: comma-separated values. jsonl: JSON Lines. xml: one element per row. xlsx: an Excel workbook.' },
    rowsFrom: { title: 'Rows from', type: 'string', minLength: 1, default: 'payload', description: 'Message property holding the rows: an array of objects, or a JSON Lines blob reference (e.g. a database node\'s blob output).' },
    columns: { title: 'Columns', type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true, description: 'Columns in order (default: the keys of the first row). Other keys are left out; missing ones are empty.' },
    output: { title: 'Output', enum: ['auto', 'payload', 'blob'], default: 'auto', description: 'auto: the file in msg.payload when small, else a blob reference. payload: always in msg.payload (fails past the size limit). blob: always a blob reference. Excel files are always blobs.' },
    maxPayloadBytes: { title: 'Largest result in the message (bytes)', type: 'integer', minimum: 1, maximum: 16 * 1024 * 1024, default: 1024 * 1024 },
    fileName: { title: 'File name', type: 'string', description: 'Name kept with the blob (default export.<format>).' },
    pageSize: { title: 'Rows read at a time', type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
    delimiter: { title: 'CSV delimiter', type: 'string', minLength: 1, maxLength: 4, default: ',' },
    header: { title: 'CSV header row', type: 'boolean', default: true },
    bom: { title: 'CSV byte order mark (for Excel)', type: 'boolean', default: false },
    rootElement: { title: 'XML root element', type: 'string', minLength: 1, default: 'rows' },
    rowElement: { title: 'XML row element', type: 'string', minLength: 1, default: 'row' },
    pretty: { title: 'XML indented', type: 'boolean', default: false },
    sheetName: { title: 'Excel sheet name', type: 'string', minLength: 1, maxLength: 31, pattern: '^[^\\\\/?*\\[\\]:]+$', default: 'Data' },
  },
  allOf: [
    { if: { properties: { format: { const: 'csv' } } }, then: { properties: { delimiter: {}, header: {}, bom: {} } } },
    { if: { properties: { format: { const: 'xml' } }, required: ['format'] }, then: { properties: { rootElement: {}, rowElement: {}, pretty: {} } } },
    { if: { properties: { format: { const: 'xlsx' } }, required: ['format'] }, then: { properties: { sheetName: {} } } },
  ],
} as const satisfies JsonSchema;

const help = `# Export

Writes rows to a file: **CSV**, **JSON Lines**, **XML** or **Excel (xlsx)**. The rows come from \`rowsFrom\`: an
array of objects, or a JSON Lines blob reference such as a database node's \`blob\` output. Rows are read a page at a
time and the file is written as it goes, so a million rows take no more memory than a thousand.

The result goes to \`msg.payload\`: the text itself when it is small (up to \`maxPayloadBytes\`, with output
\`auto\` or \`payload\`), otherwise a blob reference \`{ $blob, size, contentType, name }\` that file nodes (S3,
SFTP, local files) and the HTTP response can send on without copying. Excel files are always blobs.
\`msg.export\` says \`{ format, rows, bytes, contentType, fileName }\`.

- Columns default to the keys of the first row; list \`columns\` to fix their order or pick some.
- Nested objects and arrays become JSON text in CSV and Excel cells, and nested elements in XML.
- An Excel sheet holds at most 1,048,576 rows: more continue on further sheets (\`Data (2)\`, ...).

A row that is not an object fails the message, naming its position.`;

export const exportNode = defineNode<ExportProps>({
  type: 'export-rows',
  category: 'parser',
  label: 'Export',
  icon: 'file_export',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props,
  help,
  usableAsTool: false,
  create(init) {
    const p = withDefaults<ExportProps>(props, init.props);
    const blobs = init.services.blobs;
    const options = {
      columns: p.columns,
      csv: { delimiter: p.delimiter, header: p.header, bom: p.bom },
      xml: { rootElement: p.rootElement, rowElement: p.rowElement, pretty: p.pretty },
      xlsx: { sheetName: p.sheetName },
    };
    return {
      async onInput(msg: FlowMessage, ctx) {
        let rows = 0;
        const source = objectPages(rowPages(getProperty(msg, p.rowsFrom), blobs, p.pageSize, `msg.${p.rowsFrom}`), ctx.signal);
        const counted = (async function* () {
          for await (const page of source) {
            rows += page.length;
            yield page;
          }
        })();
        const fileName = p.fileName || `export.${EXTENSIONS[p.format]}`;
        const contentType = CONTENT_TYPES[p.format];
        try {
          const out = await collectOutput(encode(p.format, counted, options), {
            mode: p.output,
            maxPayloadBytes: p.maxPayloadBytes,
            blobs,
            runId: ctx.runId,
            contentType,
            name: fileName,
            binary: p.format === 'xlsx',
          });
          const result: FlowMessage = { ...msg, payload: out.payload, export: { format: p.format, rows, bytes: out.bytes, contentType, fileName } };
          return result;
        } catch (error) {
          if (error instanceof NodeInputError) throw new NodeInputError(`export to ${p.format}: ${error.message}`);
          throw new Error(`export to ${p.format} failed after ${rows} rows: ${(error as Error).message}`, { cause: error });
        }
      },
    };
  },
});
