/**
 * The csv node's settings as both of Node-RED's modes read them (classic: csv.ts, RFC 4180: csv-rfc.ts): escapes in
 * the separator and line end, hdrout's old booleans, skip as a number, number parsing on unless `strings` is false.
 */
import type { CsvProps } from './csv.ts';

export const unescapeCsv = (s: string) => s.replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\r/g, '\r');

export abstract class CsvSettings {
  protected readonly sep: string;
  protected readonly ret: string;
  protected readonly multi: string;
  protected readonly hdrin: unknown;
  /** 'none', 'all' or 'once' (true: 'all', false or empty: 'none'). */
  protected readonly hdrout: string;
  protected readonly skip: number;
  protected readonly parseNumbers: boolean;
  protected readonly includeEmptyStrings: boolean;
  protected readonly includeNullValues: boolean;

  /** `defaultRet`: the line end when none is set (classic "\n", RFC 4180 "\r\n"). */
  constructor(props: Partial<CsvProps>, defaultRet: string) {
    this.sep = unescapeCsv(props.sep || ',');
    this.ret = unescapeCsv(props.ret || defaultRet);
    this.multi = props.multi || 'one';
    this.hdrin = props.hdrin || false;
    const hdrout = props.hdrout as unknown;
    this.hdrout = hdrout === true ? 'all' : !hdrout ? 'none' : String(hdrout);
    this.skip = parseInt(String(props.skip || 0), 10);
    this.parseNumbers = props.strings === undefined ? true : props.strings === true;
    this.includeEmptyStrings = Boolean(props.include_empty_strings);
    this.includeNullValues = Boolean(props.include_null_values);
  }
}
