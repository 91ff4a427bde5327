/**
 * The csv node in Node-RED 4's RFC 4180 mode (`spec: "rfc"`), a port of that mode of @node-red/nodes
 * core/parsers/70-CSV.js: CRLF line ends by default, `""` kept apart from a missing cell, strict column lists and
 * header rows, quoting of the separator, quotes and line breaks, and an error (to catch nodes) for a payload that is
 * neither text nor an object. The parsing itself is csv-rfc-parse.ts.
 */
import type { FlowMessage, NodeStatus } from '@flowcrew/sdk';
import { checkStringLength, cloneMessage, ensureString, generateId, hasOwn, hostLimits, type HostLimits } from '@flowcrew/sdk/util';
import { parseRfcCsv, parseRfcCsvSliced, quoteCell } from './csv-rfc-parse.ts';
import type { CsvProps } from './csv.ts';
import { CsvSettings } from './csv-settings.ts';

type Template = Array<string | null>;

/** What the node carries between messages: the columns in use, "header sent", rows gathered from msg.parts. */
export interface RfcCsvState {
  template: Template | null;
  headerSent: boolean;
  store: unknown[];
}

interface Parts {
  index: number;
  count?: number;
  [key: string]: unknown;
}

const hasTemplate = (t: Template | null | undefined): t is Template => (t?.length ?? 0) > 0 && !(t!.length === 1 && t![0] === '');
/** msg.columns: always commas and double quotes, empty columns left out. */
const STRICT_QUOTEABLES = [',', '"', '\n', '\r'];

export class RfcCsv extends CsvSettings {
  private readonly quo = '"';
  private readonly noTemplate: boolean;
  private template: Template | null;
  private headerSent = false;
  private warnedNoTemplate = false;
  private store: unknown[] = [];

  constructor(
    private readonly props: Partial<CsvProps>,
    private readonly limits: HostLimits = hostLimits,
  ) {
    // RFC 4180 2.1: records end with CRLF.
    super(props, '\r\n');
    try {
      this.template = this.columnList(props.temp || '', ',') ?? [''];
    } catch (error) {
      // Node-RED warns "Malformed columns template." and leaves the node unwired; here the deploy names the node and why.
      throw new Error(`Malformed columns template. "${props.temp}" is not one CSV record (RFC 4180 mode): ${(error as Error).message}`);
    }
    this.noTemplate = !hasTemplate(this.template);
  }

  resume(state: RfcCsvState): void {
    this.template = state.template && [...state.template];
    this.headerSent = state.headerSent;
    this.store = [...state.store];
  }

  snapshot(): RfcCsvState {
    return { template: this.template && [...this.template], headerSent: this.headerSent, store: [...this.store] };
  }

  /** A column list as one strict CSV record (null: not exactly one record). */
  private columnList(text: string, sep?: string): Template | null {
    const parsed = parseRfcCsv(text, { separator: sep, quote: this.quo, outputStyle: 'array', strict: true }, this.limits);
    return parsed.data.length === 1 ? (parsed.data[0] as Template) : null;
  }

  private columnString(template: Template | null, keepEmpty = false, separator = ',', quoteables = STRICT_QUOTEABLES): string {
    const parsed = parseRfcCsv('', { headers: template, headersOnly: true, separator, quote: this.quo, outputStyle: 'array', strict: true }, this.limits);
    return keepEmpty ? parsed.headers.map((e) => quoteCell(e || '', { quote: this.quo, separator, quoteables })).join(separator) : parsed.header;
  }

  private quote(cell: string): string {
    return quoteCell(cell, { quote: this.quo, separator: this.sep, quoteables: [this.sep, this.quo, '\n', '\r'] });
  }

  /** The messages to send; `status` is what Node-RED shows on the node (an error's text), cleared on the next message. */
  async handle(msg: FlowMessage, warn: (text: string) => void, status: (s: NodeStatus) => void): Promise<FlowMessage[]> {
    if (hasOwn(msg, 'reset')) this.headerSent = false;
    if (!hasOwn(msg, 'payload')) return hasOwn(msg, 'reset') ? [] : [msg];
    // null too (typeof "object"), as in Node-RED: it fails as a row with no fields.
    if (typeof msg.payload === 'object') return this.toCsv(msg, warn);
    if (typeof msg.payload === 'string') return this.fromCsv(msg, msg.payload, status);
    const error = new Error('This node only handles CSV strings or js objects.');
    status({ fill: 'red', shape: 'dot', text: error.message });
    throw error;
  }

  private toCsv(msg: FlowMessage, warn: (text: string) => void): FlowMessage[] {
    let input = msg.payload as unknown;
    let arrayOfArrays = Array.isArray(input) && input.length > 0 && Array.isArray(input[0]);
    if (!Array.isArray(input)) input = [input];
    else if (input.length > 0 && typeof input[0] !== 'object') {
      input = [input];
      arrayOfArrays = true;
    }
    const rows = input as unknown[];
    const parts = msg.parts as Parts | undefined;
    if (!(this.noTemplate && hasOwn(parts, 'index') && parts!.index > 0)) this.template = this.columnList(this.props.temp || '') ?? [''];
    const lines: string[] = [];
    if ((this.hdrout === 'all' || this.hdrout === 'once') && !this.headerSent) {
      if (!hasTemplate(this.template)) {
        this.template = hasOwn(msg, 'columns') ? (this.columnList(String(msg.columns || ''), ',') ?? ['']) : Object.keys(rows[0] as object);
      }
      lines.push(this.columnString(this.template, true, this.sep, [this.sep, this.quo, '\n', '\r']));
      if (this.hdrout === 'once') this.headerSent = true;
    }
    for (const row of rows) {
      if (arrayOfArrays) {
        const cells = row as unknown[];
        const withTemplate = hasTemplate(this.template);
        const length = withTemplate ? this.template!.length : cells.length;
        const out: string[] = [];
        for (let t = 0; t < length; t++) {
          const cell = cells[t] === undefined ? '' : cells[t];
          if (!withTemplate || this.template![t]) out[t] = this.quote(ensureString(cell));
        }
        lines.push(out.join(this.sep));
        continue;
      }
      const record = row as Record<string, unknown>;
      if (!hasTemplate(this.template) && hasOwn(msg, 'columns')) this.template = this.columnList(String(msg.columns || ''), ',');
      if (!hasTemplate(this.template)) {
        if (!this.warnedNoTemplate) {
          warn('No columns template specified for object -> CSV.');
          this.warnedNoTemplate = true;
        }
        this.template = Object.keys(record);
        const cells: string[] = [];
        for (const key in rows[0] as object) {
          if (!Object.prototype.hasOwnProperty.call(record, key) || typeof record[key] === 'object') continue;
          cells.push(this.quote(record[key] === undefined ? '' : String(record[key])));
        }
        lines.push(cells.join(this.sep));
      } else {
        lines.push(this.template.map((column) => (column ? this.quote(ensureString(record[column] === undefined ? '' : record[column])) : '')).join(this.sep));
      }
    }
    msg.payload = lines.join(this.ret) + this.ret;
    msg.columns = this.columnString(this.template);
    return msg.payload !== '' ? [msg] : [];
  }

  private async fromCsv(msg: FlowMessage, text: string, status: (s: NodeStatus) => void): Promise<FlowMessage[]> {
    checkStringLength(text.length, 'The CSV text', this.limits);
    const hasParts = hasOwn(msg, 'parts');
    const parts = msg.parts as Parts | undefined;
    let firstLine = true;
    let last = false;
    let lineCount = 0;
    if (hasParts) {
      lineCount = parts!.index;
      if (parts!.index > this.skip) firstLine = false;
      if (hasOwn(parts, 'count') && parts!.index + 1 >= parts!.count!) last = true;
    }
    // Skipped lines: \r and \n each count as a line, as in Node-RED.
    let cursor = 0;
    if (this.skip > 0 && lineCount < this.skip) {
      for (; cursor < text.length && firstLine && lineCount < this.skip; cursor++) {
        if (text[cursor] === '\r' || text[cursor] === '\n') lineCount += 1;
      }
      if (cursor >= text.length) return [];
    }
    const lineBreaks = ((cursor ? text.slice(cursor) : text).match(/[\r\n]/g) || []).length;
    if (hasParts && this.multi === 'mult' && lineBreaks > 1) firstLine = true;
    if (firstLine && this.hdrin === true) {
      try {
        const header = parseRfcCsv(text, { cursor, separator: this.sep, quote: this.quo, dataHasHeaderRow: true, headersOnly: true, outputStyle: 'array', strict: true }, this.limits);
        this.template = header.headers;
        cursor = header.cursor;
      } catch (error) {
        status({ fill: 'red', shape: 'dot', text: 'Malformed columns template.' });
        throw error;
      }
    }
    const result = await parseRfcCsvSliced(
      text,
      {
        cursor,
        separator: this.sep,
        quote: this.quo,
        dataHasHeaderRow: false,
        headers: hasTemplate(this.template) ? this.template : null,
        outputStyle: 'object',
        includeNullValues: this.includeNullValues,
        includeEmptyStrings: this.includeEmptyStrings,
        parseNumeric: this.parseNumbers,
        strict: false,
      },
      this.limits,
    );
    const data = result.data;
    const columns = this.columnString(result.headers);
    if (this.multi !== 'one') {
      if (hasParts && lineBreaks <= 1) {
        this.store.push(...data);
        if (parts!.index + 1 !== parts!.count) return [];
        msg.payload = this.store;
        msg.columns = columns;
        delete msg.parts;
        this.store = [];
        return [msg];
      }
      msg.columns = columns;
      msg.payload = data;
      return [msg];
    }
    const sequenceId = msg._msgid ?? generateId();
    const out: FlowMessage[] = data.map((row, index) => {
      const next = cloneMessage(msg);
      next.columns = columns;
      next.payload = row;
      if (!hasParts) next.parts = { id: sequenceId, index, count: data.length };
      else {
        const p = next.parts as Parts;
        const shift = this.skip + (this.hdrin ? 1 : 0);
        p.index -= shift;
        p.count = (p.count as number) - shift;
      }
      if (last) next.complete = true;
      return next;
    });
    if (hasParts && last && data.length === 0) out.push({ complete: true });
    return out;
  }
}
