/**
 * What the SQL storage needs of a database (sqlite.ts and postgres.ts implement it), and the statement shape every
 * SQL store builds: SQL with `?` placeholders, written once for both dialects.
 */
export type SqlDialect = 'sqlite' | 'postgres';
export type SqlParam = string | number | bigint | null;
export type Row = Record<string, unknown>;

export interface SqlStatement {
  sql: string;
  params?: readonly SqlParam[];
  /**
   * Called by the driver right after the statement ran, INSIDE the transaction: throwing rolls the transaction
   * back (the writer then retries the batch's items one by one, so only this statement's item fails).
   */
  check?: (result: StatementResult) => void;
}

/** What running one statement of a batch produced: changed-row count, and rows for SELECT / RETURNING. */
export interface StatementResult {
  changes: number;
  rows: Row[];
}

export interface SqlDriver {
  readonly dialect: SqlDialect;
  /** DDL or other parameterless SQL; may contain several statements. */
  exec(sql: string): Promise<void>;
  all(sql: string, params?: readonly SqlParam[]): Promise<Row[]>;
  get(sql: string, params?: readonly SqlParam[]): Promise<Row | undefined>;
  /**
   * Runs the statements in ONE transaction (all or nothing), calling each statement's `check` after it ran;
   * one result per statement, in order.
   */
  writeBatch(statements: readonly SqlStatement[]): Promise<StatementResult[]>;
  close(): Promise<void>;
}

/** Queues statements on the storage's group-commit writer (group-commit.ts); settles once they committed. */
export type SqlWriter = <T>(statements: SqlStatement[], finish: (results: StatementResult[]) => T) => Promise<T>;
