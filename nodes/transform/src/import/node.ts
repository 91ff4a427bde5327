/** The import node: an Excel workbook or a CSV file (a blob, or CSV text) to rows, in pages for large files. */
import { defineNode, getProperty, inPages, isBlobRef, NodeInputError, sendRowPages, type FlowMessage, type JsonSchema } from '@flowcrew/sdk';
import { withDefaults } from '../defaults.ts';
import type { Row } from '../rows.ts';
import { csvRows, xlsxRows } from './sheets.ts';

export interface ImportProps {
  format: 'xlsx' | 'csv';
  from: string;
  sheet?: string | number;
  header: boolean;
  delimiter: string;
  output: 'rows' | 'pages';
  maxRows: number;
  pageSize: number;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    format: { title: 'Format', enum: ['xlsx', 'csv'], default: 'xlsx', description: 'xlsx: an Excel workbook. csv: comma-separated values.' },
    from: { title: 'File from', type: 'string', minLength: 1, default: 'payload', description: 'Message property holding the file: a blob reference (from a file node or an upload), or CSV text.' },
    sheet: { title: 'Sheet', type: ['string', 'integer'], description: 'xlsx: the sheet\'s name, or its position from 1 (default: the first).' },
    header: { title: 'First row names the columns', type: 'boolean', default: true, description: 'Off: columns are column_1, column_2, ...' },
    delimiter: { title: 'CSV delimiter', type: 'string', minLength: 1, maxLength: 4, default: ',' },
    output: { title: 'Output', enum: ['rows', 'pages'], default: 'rows', description: 'rows: every row in msg.payload (up to maxRows). pages: one message per page, each a JSON Lines blob (msg.page says which), for files of any size.' },
    maxRows: { title: 'Most rows in one message', type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000 },
    pageSize: { title: 'Rows per page', type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
  },
  allOf: [
    { if: { properties: { format: { const: 'xlsx' } } }, then: { properties: { sheet: {} } } },
    { if: { properties: { format: { const: 'csv' } }, required: ['format'] }, then: { properties: { delimiter: {} } } },
  ],
} as const satisfies JsonSchema;

const help = `# Import

Reads rows out of an **Excel workbook (xlsx)** or a **CSV** file. The file is a blob reference at \`from\` (what file
nodes and uploads produce), or, for CSV, the text itself. The file is read as a stream, one row at a time.

The first row names the columns (blank names become \`column_<n>\`, repeated ones get \`_2\`, \`_3\`...). Excel
cells come as JSON values: numbers and booleans as such, dates as ISO 8601 text, formulas as their last computed
result, rich text as plain text.

- **rows**: all rows in \`msg.payload\` as an array (more than \`maxRows\` fails the message: use pages).
- **pages**: one message per page of \`pageSize\` rows, \`msg.payload\` a JSON Lines blob of the page and
  \`msg.page\` = \`{ index, rows, rowsSoFar, last }\`: a database node can insert each page, an export node can
  write it again.`;

export const importNode = defineNode<ImportProps>({
  type: 'import-rows',
  category: 'parser',
  label: 'Import',
  icon: 'file_open',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props,
  help,
  create(init) {
    const p = withDefaults<ImportProps>(props, init.props);
    const blobs = init.services.blobs;
    return {
      async onInput(msg: FlowMessage, ctx) {
        const value = getProperty(msg, p.from);
        let rows: AsyncIterable<Row>;
        if (isBlobRef(value)) {
          const stream = await blobs.get(value);
          rows = p.format === 'xlsx' ? xlsxRows(stream, p) : csvRows(stream, p);
        } else if (typeof value === 'string' && p.format === 'csv') rows = csvRows(value, p);
        else throw new NodeInputError(`import ${p.format}: msg.${p.from} must be a blob reference${p.format === 'csv' ? ' or CSV text' : ' (an Excel file is binary)'}, got ${value === null ? 'null' : typeof value}`);
        const base = { ...msg, format: p.format };
        if (p.output === 'pages') {
          await sendRowPages(ctx, blobs, inPages(rows, p.pageSize), { base });
          return null;
        }
        const all: Row[] = [];
        for await (const row of rows) {
          if (all.length >= p.maxRows) throw new NodeInputError(`import ${p.format}: the file has more than ${p.maxRows} rows (maxRows): use output "pages" for large files`);
          all.push(row);
        }
        return { ...base, payload: all };
      },
    };
  },
});
