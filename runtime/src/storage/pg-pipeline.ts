/**
 * A write batch over the extended protocol, pipelined: ONE write, ONE round trip (issue 10, session 15).
 *
 * Session 14's batches were one simple-query message, `BEGIN; EXECUTE fc_w4('...', ...); ...; COMMIT`: PostgreSQL
 * lexed and parsed every EXECUTE and its literals character by character (a finished run's ~2.3 KB compact history, a
 * run's input), analysed the argument list and evaluated it, for every statement of every transaction (core_yylex
 * was PostgreSQL's 2nd-hottest function under the queue bench). Here the same batch goes as extended-protocol messages
 * written together: `Parse/Bind/Execute BEGIN`, then per statement `Bind` of its prepared statement with the values as
 * text parameters (handed to the type's input function, as PostgreSQL does with a quoted 'unknown' literal) or, for a
 * text not prepared, `Parse` of its inlined text into the unnamed statement; `Describe` (its row shape) and
 * `Execute`; `COMMIT` (unless the caller checks results first) and ONE `Sync`. node-postgres sends one query at a
 * time and a Sync per query, so this is a Submittable of its own (the interface pg-cursor uses): pg hands it the
 * connection, it writes all messages as one buffer (pg's own serializer), and pg routes the answers to it.
 *
 * Errors keep the simple query's meaning: after a failing message PostgreSQL skips the rest up to the Sync (the
 * transaction is left aborted, the caller's ROLLBACK ends it), the batch fails with that server error (the same
 * codes: "prepared statement does not exist" is 26000 on Bind as on EXECUTE). A lost connection fails the batch as a
 * simple query would.
 */
import { createRequire } from 'node:module';
import type { serialize as PgSerialize } from 'pg-protocol';
import type { Row } from './sql-driver.ts';

/**
 * pg's own message serializer (pg-protocol, what every pg Connection writes with), loaded from pg's dependencies so
 * that it is the version pg itself uses. The batch's messages are serialized here and written as ONE buffer: the
 * Connection's methods write each message on its own (4 stream writes per statement, ~60 per batch of 4 runs).
 */
const { serialize } = createRequire(createRequire(import.meta.url).resolve('pg'))('pg-protocol') as { serialize: typeof PgSerialize };

/** One statement of a pipelined batch: a prepared statement's name with its values, or a text to parse unnamed. */
export type PipelineStep = { statement: string; values: Array<string | null> } | { text: string };

export interface PipelineResult {
  rowCount: number;
  rows: Row[];
}

/** What a batch needs of the pg Connection pg hands it (pg/lib/connection.js): its socket. */
export interface WireConnection {
  stream: { writable: boolean; write(data: Buffer): boolean };
}

const DESCRIBE_PORTAL = serialize.describe({ type: 'P' });
const EXECUTE = serialize.execute();
const SYNC = serialize.sync();
/** Parse + Bind + Describe + Execute of a text without parameters into the unnamed statement and portal. */
const unnamed = (text: string): Buffer[] => [serialize.parse({ text }), serialize.bind(), DESCRIBE_PORTAL, EXECUTE];
const FIXED = new Map(['BEGIN', 'COMMIT'].map((text) => [text, Buffer.concat(unnamed(text))]));

interface Field {
  name: string;
  dataTypeID: number;
}

type TypeParser = (oid: number) => (value: string) => unknown;

const COMMAND_COMPLETE = /^([A-Za-z]+)(?: (\d+))?(?: (\d+))?/;

/** A batch of steps as one pg "query" (Submittable): `client.query(batch)`, answered through `done`. */
export class PipelinedBatch {
  /** Set by pg (client.query): the batch's answer. */
  callback?: (error: Error | null, results?: PipelineResult[]) => void;
  private readonly results: PipelineResult[] = [];
  private fields: Field[] = [];
  private parsers: Array<(value: string) => unknown> = [];
  private rows: Row[] = [];
  private answered = false;

  constructor(
    readonly steps: readonly PipelineStep[],
    private readonly typeParser: TypeParser,
  ) {}

  /** Sends the batch on this client; resolves with one result per step. */
  static run(client: { query(batch: PipelinedBatch): unknown }, steps: readonly PipelineStep[], typeParser: TypeParser): Promise<PipelineResult[]> {
    return new Promise((resolve, reject) => {
      const batch = new PipelinedBatch(steps, typeParser);
      batch.callback = (error, results) => (error ? reject(error) : resolve(results!));
      client.query(batch);
    });
  }

  /** pg: write the messages (an Error returned fails the batch before anything was sent). */
  submit(connection: WireConnection): Error | undefined {
    if (!connection.stream.writable) return new Error('Connection terminated');
    let message: Buffer;
    try {
      const chunks: Buffer[] = [];
      for (const step of this.steps) {
        if ('text' in step) {
          const fixed = FIXED.get(step.text);
          if (fixed) chunks.push(fixed);
          else chunks.push(...unnamed(step.text));
        } else chunks.push(serialize.bind({ statement: step.statement, values: step.values }), DESCRIBE_PORTAL, EXECUTE);
      }
      chunks.push(SYNC);
      message = Buffer.concat(chunks);
    } catch (error) {
      return error as Error; // nothing was written
    }
    connection.stream.write(message);
    return undefined;
  }

  handleRowDescription(message: { fields: Field[] }): void {
    this.fields = message.fields;
    this.parsers = message.fields.map((f) => this.typeParser(f.dataTypeID));
  }

  handleDataRow(message: { fields: Array<string | null> }): void {
    const row: Row = {};
    const { fields, parsers } = this;
    for (let i = 0; i < fields.length; i++) {
      const raw = message.fields[i];
      row[fields[i]!.name] = raw === null || raw === undefined ? null : parsers[i]!(raw);
    }
    this.rows.push(row);
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = COMMAND_COMPLETE.exec(message.text ?? '');
    const count = match?.[3] ?? match?.[2];
    this.results.push({ rowCount: count === undefined ? 0 : Number(count), rows: this.rows });
    this.rows = [];
    this.fields = [];
    this.parsers = [];
  }

  handleEmptyQuery(): void {
    this.results.push({ rowCount: 0, rows: [] });
  }

  handlePortalSuspended(): void {
    // Execute asks for all rows (0 = no limit): never suspended.
  }

  handleCopyInResponse(): void {
    // A COPY inside a write batch is not something the SQL writers send.
  }

  handleCopyData(): void {}

  handleError(error: Error): void {
    this.answer(error);
  }

  handleReadyForQuery(): void {
    if (this.results.length !== this.steps.length) this.answer(new Error(`pipelined batch: ${this.results.length} answers for ${this.steps.length} statements`));
    else this.answer(null);
  }

  private answer(error: Error | null): void {
    if (this.answered) return;
    this.answered = true;
    this.callback?.(error, error ? undefined : this.results);
  }
}

/** One command (no `;` outside quotes but at the end): a text the unnamed Parse takes like the simple query does. */
export function singleCommand(sql: string): boolean {
  let quote = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 39 || c === 34) quote = c;
    else if (c === 59 && sql.slice(i + 1).trim() !== '') return false; // ;
    else if (c === 45 && sql.charCodeAt(i + 1) === 45) return false; // -- comment: may hide a quote; keep the simple query
    else if (c === 47 && sql.charCodeAt(i + 1) === 42) return false; // /* comment */ likewise
  }
  return true;
}

/** What a statement's Parse needs of the pg Connection: its socket and its message events. */
export interface ParseConnection extends WireConnection {
  on(event: 'parameterDescription', listener: (message: { dataTypeIDs: number[] }) => void): unknown;
  off(event: 'parameterDescription', listener: (message: { dataTypeIDs: number[] }) => void): unknown;
}

/**
 * A named prepared statement made by the protocol's own `Parse` (+ `Describe` of it and a `Sync`, one write, one
 * round trip): the answer is the parameter types PostgreSQL inferred (ParameterDescription, as type OIDs). Session 14
 * sent `PREPARE name AS ...` and read the types from `pg_prepared_statements`, a view that lists every statement of
 * the connection with its text (≈ 220 µs of PostgreSQL each, up to 200 statements per connection).
 */
export class ParsedStatement {
  callback?: (error: Error | null, types?: number[]) => void;
  private types: number[] | undefined;
  private connection: ParseConnection | undefined;
  private answered = false;
  private readonly onTypes = (message: { dataTypeIDs: number[] }) => {
    this.types = [...message.dataTypeIDs];
  };

  constructor(
    readonly statement: string,
    readonly text: string,
  ) {}

  /** Parses `text` as the statement `statement` on this client; resolves with its parameters' type OIDs. */
  static run(client: { query(parse: ParsedStatement): unknown }, statement: string, text: string): Promise<number[]> {
    return new Promise((resolve, reject) => {
      const parse = new ParsedStatement(statement, text);
      parse.callback = (error, types) => (error ? reject(error) : resolve(types!));
      client.query(parse);
    });
  }

  submit(connection: ParseConnection): Error | undefined {
    if (!connection.stream.writable) return new Error('Connection terminated');
    let message: Buffer;
    try {
      message = Buffer.concat([serialize.parse({ name: this.statement, text: this.text }), serialize.describe({ type: 'S', name: this.statement }), SYNC]);
    } catch (error) {
      return error as Error;
    }
    this.connection = connection;
    connection.on('parameterDescription', this.onTypes);
    connection.stream.write(message);
    return undefined;
  }

  handleRowDescription(): void {} // the statement's result shape: not needed here (Bind's Describe gives it per batch)
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}

  handleError(error: Error): void {
    this.answer(error);
  }

  handleReadyForQuery(): void {
    this.answer(this.types ? null : new Error(`no parameter description for ${this.statement}`));
  }

  private answer(error: Error | null): void {
    this.connection?.off('parameterDescription', this.onTypes);
    if (this.answered) return;
    this.answered = true;
    this.callback?.(error, error ? undefined : this.types);
  }
}
