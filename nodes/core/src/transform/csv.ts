/**
 * csv (Node-RED's "csv" node): CSV text to objects and objects/arrays to CSV text. This file is the classic/legacy
 * mode; Node-RED 4's RFC 4180 mode (`spec: "rfc"`) is csv-rfc.ts.
 * A line-for-line port of Node-RED's own scanner rather than csv-parse/csv-stringify: those follow RFC 4180,
 * while imported flows rely on the classic node's exact output (number parsing, empty and null fields,
 * column names, quoting, msg.parts handling).
 */
import { defineNode, type FlowMessage, type Logger } from '@flowcrew/sdk';
import { checkStringLength, hostLimits, LimitExceededError, limitVariable, TimeSlicer, type HostLimits } from '@flowcrew/sdk/util';
import { cloneMessage, ensureString, generateId, hasOwn } from '@flowcrew/sdk/util';
import { SerialQueue } from './queue.ts';
import { CarriedState, invocationKey } from '../sequence/kept-state.ts';
import { RfcCsv, type RfcCsvState } from './csv-rfc.ts';
import { CsvSettings } from './csv-settings.ts';

export interface CsvProps {
  /** Column names, comma separated. */
  temp: string;
  sep: string;
  quo?: string;
  /** First row holds the column names. */
  hdrin: boolean | '';
  hdrout: 'none' | 'all' | 'once';
  /** 'one': a message per row; 'mult': a single message with an array. */
  multi: 'one' | 'mult';
  ret: string;
  skip: string | number;
  /** Parse numerical values. */
  strings: boolean;
  include_empty_strings: boolean | '';
  include_null_values: boolean | '';
  /** 'rfc': Node-RED 4's RFC 4180 mode (csv-rfc.ts); anything else: the classic (legacy) mode. */
  spec?: string;
}

interface Parts {
  id?: unknown;
  index: number;
  count: number;
  [key: string]: unknown;
}

const NUMBER = /^[-]?(?!E)(?!0\d)\d*\.?\d*(E-?\+?)?\d+$/i;

/**
 * Split a column list at each separator followed by an even number of quote characters, as Node-RED's
 * `split(/sep(?=(?:(?:[^q]*q){2})*[^q]*$)/)` does, in one pass: that lookahead rescans the rest of the text at
 * every separator (quadratic: 3.9 s for a 16,000-column header, hours for 100,000). Stops after `maxParts`.
 */
export function splitOutsideQuotes(text: string, sep: string, quote: string, maxParts = Infinity): string[] {
  let quotesInSep = 0;
  for (const c of sep) if (c === quote) quotesInSep++;
  // Quote characters at or after `nextQuote`, which is the first one not yet passed (-1: none left).
  let quotesLeft = 0;
  for (let at = text.indexOf(quote); at !== -1; at = text.indexOf(quote, at + 1)) quotesLeft++;
  let nextQuote = text.indexOf(quote);
  const parts: string[] = [];
  let start = 0;
  for (let at = text.indexOf(sep); at !== -1; at = text.indexOf(sep, at + 1)) {
    while (nextQuote !== -1 && nextQuote < at) {
      quotesLeft--;
      nextQuote = text.indexOf(quote, nextQuote + 1);
    }
    if ((quotesLeft - quotesInSep) % 2 !== 0) continue;
    parts.push(text.slice(start, at));
    if (parts.length >= maxParts) return parts;
    start = at + sep.length;
    while (nextQuote !== -1 && nextQuote < start) {
      quotesLeft--;
      nextQuote = text.indexOf(quote, nextQuote + 1);
    }
    at = start - 1;
  }
  parts.push(text.slice(start));
  return parts;
}

/** What the node carries between messages: the columns (a header line read in an earlier part), "header sent", gathered rows. */
interface CsvState {
  columns: string[];
  columnSeparator: string;
  goodTemplate: boolean;
  headerSent: boolean;
  store: Array<Record<string, unknown>>;
}

/** The classic CSV node's state: column template, "header sent" flag and rows gathered across msg.parts. */
class ClassicCsv extends CsvSettings {
  private readonly template: string;
  private readonly quo: string;
  private readonly noTemplate: boolean;
  private columns: string[];
  /** The separator column lists are split with: Node-RED keeps the last one used. */
  private columnSeparator: string;
  private goodTemplate = true;
  private headerSent = false;
  private warnedNoTemplate = false;
  private store: Array<Record<string, unknown>> = [];

  constructor(
    props: Partial<CsvProps>,
    private readonly limits: HostLimits = hostLimits,
  ) {
    super(props, '\n');
    this.template = props.temp || '';
    this.quo = props.quo || '"';
    if (this.sep.length === 0 || this.quo.length !== 1) throw new Error('The separator must not be empty and the quote must be one character');
    this.columnSeparator = this.sep;
    this.columns = this.clean(this.template, ',');
    this.noTemplate = this.columns.length === 1 && this.columns[0] === '';
  }

  /** Carry on from state kept in context (a restart in the middle of a sequence, or after a header went out). */
  resume(state: CsvState): void {
    this.columns = [...state.columns];
    this.columnSeparator = state.columnSeparator;
    this.goodTemplate = state.goodTemplate;
    this.headerSent = state.headerSent;
    this.store = [...state.store];
  }

  snapshot(): CsvState {
    return { columns: [...this.columns], columnSeparator: this.columnSeparator, goodTemplate: this.goodTemplate, headerSent: this.headerSent, store: [...this.store] };
  }

  /** Split a column list (outside quotes), de-quote and trim the names. Node-RED keeps the last separator used. */
  private clean(list: string, sep?: string): string[] {
    if (sep) this.columnSeparator = sep;
    const max = this.limits.csvMaxColumns;
    const split = splitOutsideQuotes(list.trim(), this.columnSeparator, this.quo, max + 1);
    if (split.length > max) throw this.tooManyColumns('The CSV column list has more columns');
    const names = split.map((x) => x.split(this.quo).join('').trim());
    this.goodTemplate = !(names.length === 1 && names[0] === '');
    return names;
  }

  private tooManyColumns(what: string): LimitExceededError {
    const max = this.limits.csvMaxColumns;
    return new LimitExceededError(`${what} than the limit of ${max}`, { name: 'csvMaxColumns', value: max, variable: limitVariable('csvMaxColumns') });
  }

  handle(msg: FlowMessage, log: Logger): FlowMessage[] | Promise<FlowMessage[]> {
    if (hasOwn(msg, 'reset')) this.headerSent = false;
    if (!hasOwn(msg, 'payload')) return hasOwn(msg, 'reset') ? [] : [msg];
    if (typeof msg.payload === 'object') return this.toCsv(msg, log);
    if (typeof msg.payload === 'string') return this.fromCsv(msg, msg.payload, log);
    log.warn('This node only handles CSV strings or js objects.');
    return [];
  }

  private quoteCell(text: string, alsoOnNewline: boolean, newlineProbe = text): string {
    if (text.indexOf(this.quo) !== -1) return this.quo + text.split(this.quo).join(this.quo + this.quo) + this.quo;
    if (text.indexOf(this.sep) !== -1 || (alsoOnNewline && newlineProbe.indexOf('\n') !== -1)) return this.quo + text + this.quo;
    return text;
  }

  private toCsv(msg: FlowMessage, log: Logger): FlowMessage[] {
    const parts = msg.parts as Parts | undefined;
    if (!(this.noTemplate && hasOwn(parts, 'index') && parts!.index > 0)) this.columns = this.clean(this.template);
    const lines: string[] = [];
    if (!Array.isArray(msg.payload)) msg.payload = [msg.payload];
    let rows = msg.payload as unknown[];
    const isBlank = () => this.columns.length === 1 && this.columns[0] === '';
    if (this.hdrout !== 'none' && !this.headerSent) {
      if (isBlank()) {
        if (hasOwn(msg, 'columns')) this.columns = this.clean(String(msg.columns || ''), ',');
        else this.columns = Object.keys(rows[0] as object);
      }
      lines.push(this.columns.map((v) => (v.indexOf(this.sep) !== -1 ? `"${v}"` : v)).join(this.sep));
      if (this.hdrout === 'once') this.headerSent = true;
    }
    for (let s = 0; s < rows.length; s++) {
      if (Array.isArray(rows[s]) || typeof rows[s] !== 'object') {
        // An array of plain values is a single row.
        if (typeof rows[s] !== 'object') rows = msg.payload = [rows];
        const row = rows[s] as unknown[];
        for (let t = 0; t < row.length; t++) {
          if (row[t] === undefined) row[t] = '';
          const text = (row[t] as { toString(): string }).toString(); // null cells fail, as in Node-RED
          row[t] = text.indexOf(this.quo) !== -1 || text.indexOf(this.sep) !== -1 || text.indexOf('\n') !== -1 ? this.quoteCell(text, true) : row[t];
        }
        lines.push(row.join(this.sep));
        continue;
      }
      const row = rows[s] as Record<string, unknown>;
      if (isBlank() && hasOwn(msg, 'columns')) this.columns = this.clean(String(msg.columns || ''), ',');
      if (isBlank()) {
        if (!this.warnedNoTemplate) {
          log.warn('No columns template specified for object -> CSV.');
          this.warnedNoTemplate = true;
        }
        const cells: string[] = [];
        for (const key in rows[0] as object) {
          if (!Object.prototype.hasOwnProperty.call(row, key) || typeof row[key] === 'object') continue;
          const text = row[key] === undefined ? '' : String(row[key]);
          // Node-RED tests the column *name* for a newline here; kept for identical output.
          cells.push(this.quoteCell(text, true, key));
        }
        lines.push(cells.join(this.sep));
      } else {
        const cells = this.columns.map((column) => {
          if (column === '') return '';
          const value = row[column];
          return this.quoteCell(ensureString(value === undefined ? '' : value), true);
        });
        lines.push(cells.join(this.sep));
      }
    }
    msg.payload = lines.join(this.ret) + this.ret;
    msg.columns = this.columns.map((v) => (v.indexOf(',') !== -1 ? `"${v}"` : v)).join(',');
    return msg.payload !== '' ? [msg] : [];
  }

  private async fromCsv(msg: FlowMessage, line: string, log: Logger): Promise<FlowMessage[]> {
    checkStringLength(line.length, 'The CSV text', this.limits);
    const parts = msg.parts as Parts | undefined;
    const hasParts = hasOwn(msg, 'parts');
    let inField = false; // inside quotes
    let j = 0;
    let k: Array<string | number | null> = [''];
    let o: Record<string, unknown> = {};
    const rows: Array<Record<string, unknown>> = [];
    let first = true;
    let last = false;
    let linecount = 0;
    if (hasParts) {
      linecount = parts!.index;
      if (parts!.index > this.skip) first = false;
      if (hasOwn(parts, 'count') && parts!.index + 1 >= parts!.count) last = true;
    }
    const newlines = (line.match(/[\r\n]/g) || []).length;
    if (hasParts && this.multi === 'mult' && newlines > 1) first = true;

    // Store the field just finished in `o` under its column name, per the empty/null/number options.
    const finishField = () => {
      if (!this.goodTemplate) this.columns[j] = `col${j + 1}`;
      const column = this.columns[j];
      if (!column) return;
      const cell = k[j];
      if (cell !== null && cell !== undefined && this.parseNumbers && typeof cell === 'string' && NUMBER.test(cell.trim())) k[j] = parseFloat(cell.trim());
      if (this.includeNullValues && k[j] === null) o[column] = k[j];
      if (this.includeEmptyStrings && k[j] === '') o[column] = k[j];
      if (k[j] !== null && k[j] !== '') o[column] = k[j];
    };
    const finishRow = () => {
      if (Object.keys(o).length > 0) rows.push(o);
    };

    // A large document is scanned a character at a time: let other flows in every few ms meanwhile.
    const slicer = new TimeSlicer();
    for (let i = 0; i < line.length; i++) {
      if ((i & 0x3fff) === 0x3fff) await slicer.check();
      const c = line[i]!;
      if (first && linecount < this.skip) {
        if (c === '\n') linecount += 1;
        continue;
      }
      if (this.hdrin === true && first) {
        // The header runs to the next line break (or the end): take it whole.
        let end = i;
        while (end < line.length && line[end] !== '\n' && line[end] !== '\r') end++;
        this.columns = this.clean(line.slice(i, end), this.sep);
        first = false;
        i = end;
        continue;
      }
      if (c === this.quo) {
        inField = !inField;
        if (line[i - 1] === this.quo && inField) k[j] += this.quo; // a doubled quote inside quotes is a literal quote
      } else if (c === this.sep && !inField) {
        // Nothing between two separators, or a separator opening a line, is a null field.
        const previous = line[i - 1];
        if (previous === this.sep || previous === undefined || previous === '\n' || previous === '\r') k[j] = null;
        finishField();
        j += 1;
        if (j >= this.limits.csvMaxColumns) throw this.tooManyColumns('A CSV row has more columns');
        // A separator as the very last character leaves a trailing null field.
        k[j] = line.length - 1 === i ? null : '';
      } else if ((c === '\n' || c === '\r') && !inField) {
        if (line[i - 1] === this.sep) k[j] = null;
        finishField();
        finishRow();
        j = 0;
        k = [''];
        o = {};
        inField = false;
      } else {
        k[j] += c;
      }
    }
    if (inField) log.warn('Malformed CSV data - output probably corrupt.');
    finishField();
    finishRow();

    const columnList = () => this.columns.map((v) => (v.indexOf(',') !== -1 ? `"${v}"` : v)).filter((v) => v).join(',');
    if (this.multi !== 'one') {
      msg.payload = rows;
      if (hasParts && newlines <= 1) {
        if (Object.keys(o).length > 0) this.store.push(o);
        if (parts!.index + 1 !== parts!.count) return [];
        msg.payload = this.store;
        msg.columns = columnList();
        delete msg.parts;
        this.store = [];
        return [msg];
      }
      msg.columns = columnList();
      return [msg];
    }
    const sequenceId = msg._msgid ?? generateId();
    const out: FlowMessage[] = rows.map((row, i) => {
      const next = cloneMessage(msg);
      next.columns = columnList();
      next.payload = row;
      if (!hasParts) next.parts = { id: sequenceId, index: i, count: rows.length };
      else {
        const p = next.parts as Parts;
        // Skipped lines and a header line are not rows: shift the sequence so it still counts from 0.
        const shift = this.skip + (this.hdrin ? 1 : 0);
        p.index -= shift;
        p.count -= shift;
      }
      if (last) next.complete = true;
      return next;
    });
    if (hasParts && last && rows.length === 0) out.push({ complete: true });
    return out;
  }
}

export const csvNode = defineNode<CsvProps>({
  type: 'csv',
  category: 'parser',
  label: 'csv',
  icon: 'table',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      temp: { type: 'string', default: '', title: 'Columns', description: 'Comma-separated column names.' },
      sep: { type: 'string', default: ',', minLength: 1, maxLength: 2, title: 'Separator', description: '"\\t" for tab.' },
      quo: { type: 'string', default: '"', minLength: 1, maxLength: 1, title: 'Quote character' },
      hdrin: { type: ['boolean', 'string'], default: false, title: 'First row contains column names' },
      hdrout: { type: 'string', enum: ['none', 'all', 'once'], default: 'none', title: 'Column name row in output' },
      multi: { type: 'string', enum: ['one', 'mult'], default: 'one', title: 'Output', description: '"one": a message per row; "mult": one message with an array.' },
      ret: { type: 'string', default: '\\n', title: 'Newline', description: '"\\n", "\\r" or "\\r\\n".' },
      skip: { type: ['string', 'integer'], default: '0', title: 'Skip first lines' },
      strings: { type: 'boolean', default: true, title: 'Parse numerical values' },
      include_empty_strings: { type: ['boolean', 'string'], default: false, title: 'Include empty strings' },
      include_null_values: { type: ['boolean', 'string'], default: false, title: 'Include null values' },
      spec: { type: 'string', enum: ['', 'rfc'], default: '', title: 'Parser', description: '"rfc": RFC 4180 (Node-RED 4); empty: classic (legacy).' },
    },
  },
  help: `Converts between CSV text and objects, like Node-RED's *csv* node in its classic (legacy) mode.

### Properties
- **Columns**: column names, comma separated (e.g. \`name,age,city\`). Without them, columns are named \`col1\`,
  \`col2\`, ... when parsing, and taken from the first object's keys when writing.
- **sep**: the separator (default \`,\`; \`\\t\` for tab). **quo**: the quote character (default \`"\`).
- **hdrin**: the first row of the input holds the column names.
- **skip**: number of lines to skip at the start of the input.
- **strings**: parse numerical values into numbers (default on).
- **include_empty_strings** / **include_null_values**: keep empty fields as \`""\` / \`null\` instead of
  leaving them out of the object.
- **multi**: \`one\` sends a message per row (with \`msg.parts\`, so a join node can rebuild the array);
  \`mult\` sends one message whose payload is the array of rows.
- **hdrout**: when writing CSV, \`none\`: no header row; \`all\`: a header row on every message; \`once\`: only
  on the first message until a message with \`msg.reset\` arrives.
- **ret**: line ending of the CSV written (\`\\n\`, \`\\r\` or \`\\r\\n\`).

### Inputs
- \`msg.payload\` **string**: CSV text to parse. Lines may also arrive one per message with \`msg.parts\` (from a
  split node): with \`mult\`, the rows are gathered and sent as one array after the last part.
- \`msg.payload\` **object**, **array of objects**, **array of arrays** or **array of values**: rows to write.
  \`msg.columns\` may give the column names when **temp** is empty.
- \`msg.reset\`: send the header row again (\`hdrout: once\`).

### Outputs
1. Parsed rows (objects keyed by column name) in \`msg.payload\`, or the CSV text; \`msg.columns\` lists the
   columns.

### Parser
\`spec: "rfc"\` is Node-RED 4's RFC 4180 mode: records end with \`\\r\\n\` by default, an empty quoted cell
(\`""\`) is an empty string while nothing between separators is \`null\`, column lists and header rows must be valid
CSV, numbers are converted unless they start with \`+\` or \`0\`, and a payload that is neither text nor an object is
an error for catch nodes. Without it, the classic (legacy) mode of older Node-RED versions.

### Notes
The columns read from a header, whether the header row went out (\`hdrout: once\`) and rows gathered from
\`msg.parts\` are kept in the node's context: a restart in the middle of a sequence carries on with them.
Quoted fields containing a quote double it (\`""\`); a field with the separator or a newline is quoted.`,
  create({ props, log, context }) {
    // Node-RED 4's RFC 4180 mode (spec "rfc", its default for new nodes) or the classic one it keeps for older flows.
    const csv = props.spec === 'rfc' ? new RfcCsv(props) : new ClassicCsv(props);
    const carried = new CarriedState<CsvState | RfcCsvState>(context.node, 'csv:state', log, csv.snapshot());
    // One message at a time: parsing a large document yields, and the node keeps state between messages.
    const queue = new SerialQueue();
    let failedStatus = false;
    return {
      onInput(msg, ctx) {
        return queue.run(async () => {
          const inv = invocationKey(ctx);
          const before = carried.begin(inv);
          if (failedStatus) ctx.status({});
          failedStatus = false;
          let out: FlowMessage[];
          if (csv instanceof RfcCsv) {
            csv.resume(before as RfcCsvState);
            out = await csv.handle(msg, (text) => ctx.log.warn(text), (status) => {
              failedStatus = true;
              ctx.status(status);
            });
          } else {
            csv.resume(before as CsvState);
            out = await csv.handle(msg, ctx.log);
          }
          const after = csv.snapshot();
          if (JSON.stringify(after) !== JSON.stringify(before)) carried.end(inv, before, after);
          return [out];
        });
      },
    };
  },
});
