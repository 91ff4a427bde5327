/**
 * Prepared statements inside PostgreSQL's one-message write batches (issue 10, session 14).
 *
 * A write batch goes as ONE simple-query message (postgres.ts writeBatch), values inlined as literals, so PostgreSQL
 * parsed and PLANNED every statement of every transaction (session 12: planning cost as much as executing). Here a
 * statement text that recurs (its 5th use) is PREPAREd once per connection, in a round trip of its own before the batch's message
 * (a failing PREPARE inside BEGIN ... COMMIT would abort the transaction), and the batch then says
 * `EXECUTE name(literal, ...)`: still one message, and after 5 executions PostgreSQL keeps a generic plan when it is
 * not costlier than the custom ones, so planning disappears. Since session 15 a statement is prepared by the
 * protocol's Parse + Describe (pg-pipeline.ts ParsedStatement: the parameter types come with its answer), not by
 * `PREPARE` and a read of pg_prepared_statements; and the driver asks for the Bind form (texts(..., 'bind'): the name
 * and the values as text parameters) and sends the batch over the extended protocol, pipelined in one write
 * (pg-pipeline.ts): no literal for PostgreSQL to lex. The SQL writers keep their `?` SQL: this is a seam of the
 * driver alone.
 *
 * Same results as the inlined text: PREPARE infers each `$n`'s type from its context, as an inlined 'unknown'
 * literal is resolved in most places. Where it cannot (`? IS NULL`, ...) PREPARE fails and the text stays inlined
 * for the process. Where the two could differ, the value decides per execution: a string or NULL is an 'unknown'
 * literal in both forms (coerced to the parameter's type); a number goes to EXECUTE only when its parameter is
 * numeric and can hold it (an integer for an integer type), otherwise that statement is inlined as before (a number
 * where PREPARE inferred text, e.g. `SELECT ?`, would come back as a string).
 *
 * FLOWCREW_PG_PREPARE=off turns it off (PgBouncer in transaction pooling mode before 1.21 does not keep prepared
 * statements per client). `always` prepares every text from its first use: a test mode, so that the storage suites
 * prove every statement gives the same results prepared.
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
  /**
   * The statement as sent inside the batch's message: `EXECUTE name(...)` or the inlined text; for a statement to
   * Bind (texts(..., 'bind'), pg-pipeline.ts) the inlined text only when not prepared.
   */
  text: string;
  prepared: boolean;
  /** texts(..., 'bind'): the prepared statement's name and its values as text parameters. */
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
   * The batch's statement texts for this client: the recurring ones prepared on it first (one round trip each, only
   * the first time on this connection), as `EXECUTE`; the others inlined.
   */
  async texts(client: QueryClient, statements: readonly { sql: string; params?: readonly SqlParam[] }[], form: 'execute' | 'bind' = 'execute'): Promise<BatchText[]> {
    if (this.mode === 'off') return statements.map((s) => ({ text: this.inline(s.sql, s.params), prepared: false }));
    // A batch that changes the schema (a migration) goes inlined: its statements may name tables it creates.
    if (statements.some((s) => SCHEMA_CHANGE.test(s.sql))) return statements.map((s) => ({ text: this.inline(s.sql, s.params), prepared: false }));
    let mine = this.perClient.get(client);
    if (mine === undefined) this.perClient.set(client, (mine = new Map()));
    const out: BatchText[] = [];
    for (const s of statements) {
      const prepared = mine.get(s.sql) ?? (await this.prepareIfRecurring(client, mine, s.sql));
      if (form === 'bind') {
        const values = prepared && bindValues(prepared, s.params ?? []);
        out.push(values !== undefined ? { text: '', prepared: true, statement: prepared!.name, values } : { text: this.inline(s.sql, s.params), prepared: false });
        continue;
      }
      const args = prepared && executeArgs(prepared, s.params ?? []);
      out.push(args !== undefined ? { text: `EXECUTE ${prepared!.name}${args}`, prepared: true } : { text: this.inline(s.sql, s.params), prepared: false });
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

/** `(literal, ...)` for EXECUTE, or undefined when a value must be inlined in the statement's own text instead. */
function executeArgs(prepared: Prepared, params: readonly SqlParam[]): string | undefined {
  const { kinds } = prepared;
  if (params.length < kinds.length) throw new Error(`statement has more placeholders than parameters: ${prepared.name}`);
  if (kinds.length === 0) return '';
  let out = '(';
  for (let i = 0; i < kinds.length; i++) {
    const value = params[i];
    let literal: string;
    if (value === null || value === undefined) literal = 'NULL';
    else if (typeof value === 'number' || typeof value === 'bigint') {
      const kind = kinds[i];
      if (!kind) return undefined;
      const n = Number(value);
      if (!Number.isFinite(n)) throw new Error(`cannot store the number ${value}`);
      if (n < kind.min || n > kind.max || (kind.integer && !Number.isInteger(n))) return undefined;
      literal = value.toString();
    } else literal = quoteLiteral(String(value));
    out += i === 0 ? literal : `, ${literal}`;
  }
  return `${out})`;
}

/**
 * The values as Bind's text parameters, or undefined when a value must be inlined in the statement's own text instead:
 * the same choice as executeArgs (a number only into a numeric parameter that holds it); a text parameter is given to
 * the type's input function, as PostgreSQL does with the quoted 'unknown' literal of EXECUTE or the inlined text.
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
