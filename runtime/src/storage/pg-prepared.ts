/**
 * Prepared statements inside PostgreSQL's one-round-trip write batches (issue 10, sessions 14-15).
 *
 * A write batch used to go as ONE simple-query message with its values inlined as literals, so PostgreSQL lexed,
 * parsed and PLANNED every statement of every transaction (session 12: planning cost as much as executing). Here a
 * statement text that recurs (its 5th use) is prepared once per connection, in a round trip of its own before the
 * batch (a failing prepare inside BEGIN ... COMMIT would abort the transaction): the protocol's Parse + Describe
 * (pg-pipeline.ts ParsedStatement), whose answer gives the parameter types. The batch then Binds the prepared
 * statements with their values as text parameters, pipelined in one write with one Sync (pg-pipeline.ts
 * PipelinedBatch): still one round trip, no planning after PostgreSQL settles on a generic plan, and no literal to
 * lex. The SQL writers keep their `?` SQL: this is a seam of the driver alone.
 *
 * Same results as the inlined text: Parse infers each `$n`'s type from its context, as an inlined 'unknown' literal
 * is resolved in most places. Where it cannot (`? IS NULL`, ...) the prepare fails and the text stays inlined for the
 * process. Where the two could differ, the value decides per execution: a string or NULL goes as text (the type's
 * input function, as for an 'unknown' literal); a number goes to Bind only when its parameter is numeric and can hold
 * it (an integer for an integer type), otherwise that statement is inlined as before (a number where Parse inferred
 * text, e.g. `SELECT ?`, would come back as a string).
 *
 * FLOWCREW_PG_PREPARE=off turns it off (a pooler that does not keep prepared statements per client, e.g. PgBouncer
 * in transaction pooling mode; 1.21+ tracks protocol-level ones, untested here). `always` prepares every text from
 * its first use: a test mode, so that the storage suites prove every statement gives the same results prepared.
 */
import { ParsedStatement } from './pg-pipeline.ts';
import type { SqlParam } from './sql-driver.ts';

export type PrepareMode = 'off' | 'recurring' | 'always';

/** Prepared statements per connection at most; texts met after that stay inlined (see PreparedStatements). */
export const MAX_PREPARED_PER_CONNECTION = 200;
/**
 * A text is prepared at its 5th use in the process: the first 5 executions of a prepared statement are planned anyway
 * (custom plans), so a text used only a few times gains nothing and costs a PREPARE round trip; the hot texts recur
 * hundreds of times a second. (Embedded PostgreSQL's ~25-run batches make many row-count variants used a few times.)
 */
export const PREPARE_AFTER_USES = 5;
/** Texts whose uses are counted; the count starts over when full (a rarely used text is then inlined a bit longer). */
const MAX_COUNTED_TEXTS = 2000;

export function prepareModeFromEnv(value: string | undefined = process.env.FLOWCREW_PG_PREPARE): PrepareMode {
  const v = (value ?? '').trim().toLowerCase();
  if (v === 'off' || v === 'false' || v === '0' || v === 'no') return 'off';
  if (v === 'always') return 'always';
  return 'recurring';
}

/** How a parameter takes a number: integers within a range, any number, or none (text, jsonb, ...: inline it). */
type ParamKind = { min: number; max: number; integer: boolean } | null;

/** By type OID (pg_type): int2, int4, int8, numeric, float8. */
const PARAM_KINDS: Record<number, ParamKind> = {
  21: { min: -32768, max: 32767, integer: true },
  23: { min: -2147483648, max: 2147483647, integer: true },
  20: { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true },
  1700: { min: -Infinity, max: Infinity, integer: false },
  701: { min: -Infinity, max: Infinity, integer: false },
};

/** What PREPARE takes (SET LOCAL and DDL in a batch stay inlined). */
const PREPARABLE = /^\s*(SELECT|INSERT|UPDATE|DELETE|WITH|VALUES)\b/i;
const SCHEMA_CHANGE = /^\s*(CREATE|ALTER|DROP)\b/i;

interface Prepared {
  name: string;
  kinds: ParamKind[];
}

/** What a pg client must do to prepare a statement (a PoolClient in the driver): run a Parse (pg-pipeline.ts). */
export interface QueryClient {
  query(parse: ParsedStatement): unknown;
}

export interface BatchText {
  /** The inlined text of a statement not prepared (empty when prepared). */
  text: string;
  prepared: boolean;
  /** A prepared statement's name and its values as Bind's text parameters (pg-pipeline.ts). */
  statement?: string;
  values?: Array<string | null>;
}

export class PreparedStatements {
  private readonly uses = new Map<string, number>();
  private readonly inlineOnly = new Set<string>();
  private readonly perClient = new WeakMap<object, Map<string, Prepared>>();
  private nextId = 0;

  constructor(
    readonly mode: PrepareMode,
    private readonly numbered: (sql: string) => string,
    private readonly inline: (sql: string, params: readonly SqlParam[] | undefined) => string,
    private readonly maxPerConnection = MAX_PREPARED_PER_CONNECTION,
  ) {}

  /**
   * The batch's statements for this client: the recurring ones prepared on it first (one round trip each, only the
   * first time on this connection), to Bind with their values; the others inlined.
   */
  async texts(client: QueryClient, statements: readonly { sql: string; params?: readonly SqlParam[] }[]): Promise<BatchText[]> {
    if (this.mode === 'off') return statements.map((s) => ({ text: this.inline(s.sql, s.params), prepared: false }));
    // A batch that changes the schema (a migration) goes inlined: its statements may name tables it creates.
    if (statements.some((s) => SCHEMA_CHANGE.test(s.sql))) return statements.map((s) => ({ text: this.inline(s.sql, s.params), prepared: false }));
    let mine = this.perClient.get(client);
    if (mine === undefined) this.perClient.set(client, (mine = new Map()));
    const out: BatchText[] = [];
    for (const s of statements) {
      const prepared = mine.get(s.sql) ?? (await this.prepareIfRecurring(client, mine, s.sql));
      const values = prepared && bindValues(prepared, s.params ?? []);
      out.push(values !== undefined ? { text: '', prepared: true, statement: prepared!.name, values } : { text: this.inline(s.sql, s.params), prepared: false });
    }
    return out;
  }

  /** After "prepared statement does not exist" or a changed result type: this connection's statements are forgotten. */
  forget(client: object): void {
    this.perClient.delete(client);
  }

  /** Statements prepared on this client (tests). */
  preparedOn(client: object): number {
    return this.perClient.get(client)?.size ?? 0;
  }

  private get threshold(): number {
    return this.mode === 'always' ? 1 : PREPARE_AFTER_USES;
  }

  private count(sql: string): number {
    const n = (this.uses.get(sql) ?? 0) + 1;
    if (this.uses.size >= MAX_COUNTED_TEXTS && n === 1) this.uses.clear();
    this.uses.set(sql, n);
    return n;
  }

  private async prepareIfRecurring(client: QueryClient, mine: Map<string, Prepared>, sql: string): Promise<Prepared | undefined> {
    if (!PREPARABLE.test(sql) || this.inlineOnly.has(sql) || this.count(sql) < this.threshold) return undefined;
    // The bound: no LRU. The hot texts recur from the start and are prepared first; a text met after 200 others is
    // the long tail (multi-row statements of rare row counts), and evicting would cost a DEALLOCATE and a PREPARE
    // round trip plus 5 custom plans again each time it came back: inlining it costs one plan.
    if (mine.size >= this.maxPerConnection) return undefined;
    const name = `fc_w${++this.nextId}`;
    let types: number[];
    try {
      // One write, one round trip: Parse of the named statement and Describe of it, whose answer is the parameter
      // types PostgreSQL inferred (as type OIDs).
      types = await ParsedStatement.run(client, name, this.numbered(sql));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (typeof code !== 'string') throw error; // the connection, not the statement: the batch fails as it would have
      // Class 42 (e.g. 42P18 "could not determine data type of parameter $1"): this text is never preparable. Not
      // a table or column missing (42P01, 42703): the schema may not be migrated yet.
      if (code.startsWith('42') && code !== '42P01' && code !== '42703') this.inlineOnly.add(sql);
      return undefined;
    }
    const prepared: Prepared = { name, kinds: types.map((t) => PARAM_KINDS[t] ?? null) };
    mine.set(sql, prepared);
    return prepared;
  }
}

/**
 * The values as Bind's text parameters, or undefined when a value must be inlined in the statement's own text instead:
 * a number only into a numeric parameter that holds it (inlined, PostgreSQL would take it as the column's type); a
 * text parameter is given to the type's input function, as PostgreSQL does with the quoted 'unknown' literal of the
 * inlined text.
 */
function bindValues(prepared: Prepared, params: readonly SqlParam[]): Array<string | null> | undefined {
  const { kinds } = prepared;
  if (params.length < kinds.length) throw new Error(`statement has more placeholders than parameters: ${prepared.name}`);
  const out = new Array<string | null>(kinds.length);
  for (let i = 0; i < kinds.length; i++) {
    const value = params[i];
    if (value === null || value === undefined) out[i] = null;
    else if (typeof value === 'number' || typeof value === 'bigint') {
      const kind = kinds[i];
      if (!kind) return undefined;
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`cannot store the number ${value}`);
      if (n < kind.min || n > kind.max || (kind.integer && !Number.isInteger(n))) return undefined;
      out[i] = value.toString();
    } else out[i] = String(value);
  }
  return out;
}

/**
 * A string as a PostgreSQL literal, as pg.escapeLiteral quotes it (quotes doubled; with a backslash: backslashes
 * doubled and an E'' string), by two replaceAll instead of pg's concatenation per character (~6x the CPU on an
 * 800-character message, and its garbage).
 */
export function quoteLiteral(text: string): string {
  const quoted = `'${text.replaceAll("'", "''")}'`;
  return text.includes('\\') ? ` E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}
