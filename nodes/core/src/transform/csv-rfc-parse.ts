/**
 * The RFC 4180 CSV scanner of Node-RED 4's csv node (@node-red/nodes core/parsers/lib/csv, Apache-2.0), ported
 * rather than taken from csv-parse: imported flows rely on its exact answers (an empty cell is `null`, `""` is an empty
 * string, numbers converted with `+v` unless they start with `+`/`0`, a stray quote kept in relaxed mode, `\r`, `\n`
 * and `\r\n` all end a record). Added for Flowcrew: a column limit per row and time slices on large documents.
 */
import { hostLimits, LimitExceededError, limitVariable, TimeSlicer, type HostLimits } from '@flowcrew/sdk/util';

export interface RfcParseOptions {
  /** Where to start in the text. */
  cursor?: number;
  separator?: string;
  quote?: string;
  /** Read the first record as the column names and stop there. */
  headersOnly?: boolean;
  /** Column names to use (the text then has no header row). */
  headers?: Array<string | null> | null;
  dataHasHeaderRow?: boolean;
  parseNumeric?: boolean;
  includeNullValues?: boolean;
  includeEmptyStrings?: boolean;
  outputStyle?: 'array' | 'object';
  /** Throw on a quote inside an unquoted cell, data after a closing quote, or an unclosed quote. */
  strict?: boolean;
}

export interface RfcParseResult {
  headers: Array<string | null>;
  /** The non-empty headers, each quoted when needed, joined with commas. */
  header: string;
  data: unknown[];
  cursor: number;
}

export class CsvParseError extends Error {
  constructor(
    message: string,
    readonly cursor: number,
  ) {
    super(message);
    this.name = 'ParseError';
  }
}

type Cell = string | null;

/** Node-RED's is-not-a-number shortcut: these keep their text (a leading `+` or zero, as in `007` or `+44`). */
const SKIP_NUMBER_CONVERSION = /^ *(\+|-0\d|0\d)/;

/** Quotes a cell when it holds one of `quoteables`; a quote inside is doubled (RFC 4180 2.6). */
export function quoteCell(cell: string, options: { quote?: string; separator?: string; quoteables?: readonly string[] } = {}): string {
  const quote = options.quote ?? '"';
  const quoteables = options.quoteables ?? [quote, options.separator ?? ',', '\r', '\n'];
  const wrap = quoteables.some((q) => cell.includes(q)) ? quote : '';
  return wrap + (cell.includes(quote) ? cell.replace(/"/g, '""') : cell) + wrap;
}

/** The records of `text` from `cursor` on, as arrays of cells: Node-RED's main loop, run in steps. */
class Scanner {
  private readonly cells: string[] = [];
  private row: Cell[] = [];
  private newCell = true;
  private inQuote = false;
  private closed = false;
  readonly records: Cell[][] = [];

  constructor(
    private readonly text: string,
    public cursor: number,
    private readonly separator: string,
    private readonly quote: string,
    private readonly headersOnly: boolean,
    private readonly strict: boolean,
    private readonly limits: HostLimits,
  ) {}

  private finishCell(): void {
    const cell = this.cells.join('');
    this.cells.length = 0;
    // No character at all is null; a quoted empty cell ("") is an empty string.
    this.row.push(cell || (this.newCell ? null : ''));
    if (this.row.length > this.limits.csvMaxColumns) {
      const max = this.limits.csvMaxColumns;
      throw new LimitExceededError(`A CSV row has more columns than the limit of ${max}`, { name: 'csvMaxColumns', value: max, variable: limitVariable('csvMaxColumns') });
    }
  }

  finishRow(): void {
    if (this.cells.length) this.finishCell();
    if (this.row.length) {
      this.records.push(this.row);
      this.row = [];
    }
  }

  /** Scans up to `budget` characters; true when the text (or the header record) is done. */
  step(budget: number): boolean {
    const { text, quote, separator } = this;
    const stop = Math.min(text.length, this.cursor + budget);
    while (this.cursor < stop) {
      const char = text[this.cursor]!;
      if (this.inQuote) {
        if (char === quote && text[this.cursor + 1] === quote) {
          this.cells.push(quote);
          this.cursor += 2;
          this.closed = false;
        } else if (char === quote) {
          this.inQuote = false;
          this.cursor += 1;
          this.closed = true;
        } else {
          this.cells.push(char);
          this.closed = false;
          this.cursor += 1;
        }
        this.newCell = false;
      } else if (char === separator) {
        this.finishCell();
        this.cursor += 1;
        this.newCell = true;
        this.closed = false;
      } else if (char === quote) {
        if (this.newCell) {
          this.inQuote = true;
          this.cursor += 1;
          this.newCell = false;
          this.closed = false;
        } else if (this.strict) {
          throw new CsvParseError('Quote found in the middle of an unquoted field', this.cursor);
        } else {
          // Relaxed: keep one quote unless a cell or record ends right after it ("" inside a cell is one quote).
          this.cursor += 1;
          const next = text[this.cursor];
          if (next && next !== '\n' && next !== '\r' && next !== separator) {
            this.cells.push(char);
            if (next === quote) this.cursor += 1;
          }
        }
      } else if (char === '\n' || char === '\r') {
        this.finishRow();
        this.cursor += text[this.cursor + 1] === '\n' ? 2 : 1;
        this.newCell = true;
        this.closed = false;
        if (this.headersOnly) return true;
      } else if (this.closed) {
        if (this.strict) throw new CsvParseError('Data found after closing quote', this.cursor);
        // Relaxed: the character after a closing quote is read again as part of the cell (Node-RED steps back one).
        this.cursor -= 1;
        this.closed = false;
      } else {
        this.cells.push(char);
        this.newCell = false;
        this.cursor += 1;
      }
    }
    return this.cursor >= text.length;
  }

  /** After the last step (a header record ended by its line break leaves nothing open). */
  end(): void {
    if (this.strict && this.inQuote) throw new CsvParseError('Missing quote, unclosed cell', this.cursor);
    this.finishRow();
  }
}

/** Node-RED's result shaping: headers taken, given or generated (col1, col2, ...), then rows as arrays or objects. */
function shape(records: Cell[][], cursor: number, options: RfcParseOptions): RfcParseResult {
  const quote = options.quote ?? '"';
  const headers: Array<string | null> = Array.isArray(options.headers) ? options.headers : [];
  const headersSupplied = headers.length > 0;
  let firstRowIsHeader = false;
  if (records.length >= 1 && !headersSupplied) {
    if (options.dataHasHeaderRow ?? true) {
      headers.push(...records[0]!);
      firstRowIsHeader = true;
    } else for (let i = 0; i < records[0]!.length; i++) headers.push(`col${i + 1}`);
  }
  const header = headers.filter((h): h is string => Boolean(h)).map((h) => quoteCell(h, { quote, separator: ',' })).join(',');
  if (options.outputStyle === 'array' || options.headersOnly) {
    if (options.headersOnly) return { headers, header, data: [], cursor };
    return { headers, header, data: firstRowIsHeader || headers.length === 0 ? records : [headers, ...records], cursor };
  }
  const includeNull = options.includeNullValues ?? false;
  const includeEmpty = options.includeEmptyStrings ?? true;
  const data: Array<Record<string, unknown>> = [];
  for (let i = firstRowIsHeader ? 1 : 0; i < records.length; i++) {
    const row: Record<string, unknown> = {};
    let empty = true;
    for (let j = 0; j < headers.length; j++) {
      const name = headers[j];
      if (!name) continue;
      let value: unknown = records[i]![j] ?? null;
      if (value === null && !includeNull) continue;
      if (value === '' && !includeEmpty) continue;
      if (options.parseNumeric === true && value && !SKIP_NUMBER_CONVERSION.test(value as string)) {
        const number = +(value as string);
        if (!Number.isNaN(number)) value = number;
      }
      row[name] = value;
      empty = false;
    }
    if (!empty) data.push(row);
  }
  return { headers, header, data, cursor };
}

function scanner(text: string, options: RfcParseOptions, limits: HostLimits): Scanner {
  return new Scanner(text, options.cursor ?? 0, options.separator ?? ',', options.quote ?? '"', options.headersOnly ?? false, options.strict ?? false, limits);
}

/** Parses at once: for column lists and header rows (short). */
export function parseRfcCsv(text: string, options: RfcParseOptions, limits: HostLimits = hostLimits): RfcParseResult {
  const scan = scanner(text, options, limits);
  scan.step(Infinity);
  scan.end();
  return shape(scan.records, scan.cursor, options);
}

/** Parses a document, letting other flows in every few milliseconds while a large one is scanned. */
export async function parseRfcCsvSliced(text: string, options: RfcParseOptions, limits: HostLimits = hostLimits): Promise<RfcParseResult> {
  const scan = scanner(text, options, limits);
  const slicer = new TimeSlicer();
  let done = scan.step(0x4000);
  while (!done) {
    await slicer.check();
    done = scan.step(0x4000);
  }
  scan.end();
  return shape(scan.records, scan.cursor, options);
}
