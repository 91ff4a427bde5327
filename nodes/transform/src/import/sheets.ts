/**
 * Rows out of files, read as streams: an Excel workbook (exceljs's streaming reader: one row at a time, shared
 * strings cached as the format requires) and CSV (csv-parse). The first row names the columns.
 */
import type { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import { loadCsvParse, loadExcel } from '../libs.ts';
import { NodeInputError } from '@flowcrew/sdk';
import type { Row } from '../rows.ts';

/** A cell as a JSON value: formulas give their result, rich text its text, dates ISO 8601, errors their code. */
export function cellValue(value: ExcelJS.CellValue): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value !== 'object') return value;
  if ('richText' in value) return value.richText.map((part) => part.text).join('');
  if ('formula' in value || 'sharedFormula' in value) return cellValue((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
  if ('hyperlink' in value) return (value as ExcelJS.CellHyperlinkValue).text;
  if ('error' in value) return (value as ExcelJS.CellErrorValue).error;
  return JSON.stringify(value);
}

/** Column names from a header row: blanks become column_<n>, repeats get a suffix. */
function headerNames(cells: unknown[]): string[] {
  const seen = new Map<string, number>();
  return cells.map((cell, i) => {
    let name = cell === null || cell === undefined || String(cell).trim() === '' ? `column_${i + 1}` : String(cell).trim();
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    if (n > 0) name = `${name}_${n + 1}`;
    return name;
  });
}

function toRow(names: string[], cells: unknown[]): Row {
  const row: Row = {};
  const width = Math.max(names.length, cells.length);
  for (let i = 0; i < width; i++) row[names[i] ?? `column_${i + 1}`] = cells[i] ?? null;
  return row;
}

export interface SheetOptions {
  /** A sheet's name, or its position from 1 (default: the first sheet). */
  sheet?: string | number;
  header: boolean;
}

export async function* xlsxRows(input: Readable, options: SheetOptions): AsyncIterable<Row> {
  const reader = new (await loadExcel()).stream.xlsx.WorkbookReader(input, { worksheets: 'emit', sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', entries: 'ignore' });
  let position = 0;
  const seen: string[] = [];
  try {
    for await (const sheet of reader) {
      position++;
      const name = (sheet as unknown as { name?: string }).name ?? `sheet ${position}`;
      seen.push(name);
      const wanted = options.sheet === undefined ? position === 1 : typeof options.sheet === 'number' ? options.sheet === position : options.sheet === name;
      if (!wanted) {
        // The sheet must still be read through: the zip is one stream.
        for await (const _ of sheet) void _;
        continue;
      }
      let names: string[] | undefined;
      for await (const row of sheet) {
        // row.values is 1-based and sparse.
        const cells = Array.from({ length: Math.max(0, (row.values as unknown[]).length - 1) }, (_, i) => cellValue((row.values as ExcelJS.CellValue[])[i + 1] ?? null));
        if (!names) {
          names = options.header ? headerNames(cells) : [];
          if (options.header) continue;
        }
        yield toRow(names, cells);
      }
      return;
    }
  } catch (error) {
    throw new NodeInputError(`the Excel file could not be read: ${(error as Error).message}`);
  } finally {
    input.destroy();
  }
  throw new NodeInputError(`the workbook has no sheet ${JSON.stringify(options.sheet ?? 1)} (it has ${seen.map((s) => JSON.stringify(s)).join(', ') || 'none'})`);
}

export async function* csvRows(input: Readable | string, options: SheetOptions & { delimiter: string }): AsyncIterable<Row> {
  const parser = (await loadCsvParse())({ delimiter: options.delimiter, bom: true, relax_column_count: true, skip_empty_lines: true });
  if (typeof input === 'string') parser.end(input);
  else {
    input.on('error', (error) => parser.destroy(error));
    input.pipe(parser);
  }
  let names: string[] | undefined;
  try {
    for await (const cells of parser as AsyncIterable<string[]>) {
      if (!names) {
        names = options.header ? headerNames(cells) : [];
        if (options.header) continue;
      }
      yield toRow(names, cells);
    }
  } catch (error) {
    throw new NodeInputError(`the CSV could not be read: ${(error as Error).message}`);
  } finally {
    if (typeof input !== 'string') input.destroy();
  }
}
