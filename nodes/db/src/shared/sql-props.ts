/**
 * The props schema pieces every SQL node of the pack shares (PostgreSQL, MySQL/MariaDB, ODBC), so their forms read
 * alike: the same titles, the same words, and the same fields shown per operation. Each node says only what differs
 * (its placeholder syntax, its upsert key, its limits).
 */
import { paramSchema } from './params.ts';

export type SqlOperation = 'query' | 'insert' | 'upsert' | 'transaction';

const columnList = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true } as const;

export const operationField = {
  enum: ['query', 'insert', 'upsert', 'transaction'],
  default: 'query',
  title: 'Operation',
  description: 'query: one statement. insert/upsert: rows in batches. transaction: several statements, all or nothing.',
} as const;

/** `sql` and `params`; `placeholders` says how the statement names its values ("?" or "$1, $2..."). */
export function statementFields(placeholders: { inSql: string; params: string }) {
  return {
    sql: { type: 'string', minLength: 1, format: 'sql', title: 'SQL', description: `The statement, with ${placeholders.inSql} (message data is never put into the SQL text).` },
    params: { type: 'array', items: paramSchema, default: [], title: 'Parameters', description: `Values for ${placeholders.params}: a message property (payload.id) or { "value": ... }.` },
  } as const;
}

/** `output`, `maxRows` and `pageSize` for a query's rows; `blob` where the driver can stream every row into one blob. */
export function resultFields(withBlob: boolean) {
  const outputs = withBlob ? (['rows', 'first', 'pages', 'blob'] as const) : (['rows', 'first', 'pages'] as const);
  return {
    output: {
      enum: outputs,
      default: 'rows',
      title: 'Output',
      description: `rows: all rows in msg.payload (up to maxRows). first: the first row. pages: one message per page (a JSON Lines blob each).${withBlob ? ' blob: one message, every row in one JSON Lines blob.' : ''}`,
    },
    maxRows: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000, title: 'Rows at most', description: 'Output rows: more rows than this fail the statement (use pages for large results).' },
    pageSize: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000, title: 'Rows per page' },
  } as const;
}

export const readOnlyField = { type: 'boolean', default: false, title: 'Read only', description: 'Run in a read-only transaction (e.g. when an AI agent writes the SQL).' } as const;

/** insert/upsert: `table`, `columns`, `updateColumns`, `rowsFrom`, `batchSize`, `atomic`. */
export function batchWriteFields(options: { tableName: string; updateDefault: string; maxBatch: number; defaultBatch: number }) {
  return {
    table: { type: 'string', minLength: 1, title: 'Table', description: `The table, as ${options.tableName}.` },
    columns: { ...columnList, title: 'Columns', description: 'The columns written (default: the keys of the first rows). A column missing from a row is written as NULL.' },
    updateColumns: { ...columnList, title: 'Columns to update', description: `Upsert: the columns updated when the key exists (default: ${options.updateDefault}).` },
    rowsFrom: { type: 'string', minLength: 1, default: 'payload', title: 'Rows from', description: 'Where the rows are: an array, or a JSON Lines blob reference (e.g. pages of another query).' },
    batchSize: { type: 'integer', minimum: 1, maximum: options.maxBatch, default: options.defaultBatch, title: 'Rows per statement' },
    atomic: { type: 'boolean', default: true, title: 'All or nothing', description: 'Every batch in one transaction (a failure writes nothing). Off: each batch commits on its own, and a failure says which rows were written.' },
  } as const;
}

/** An upsert's key columns, under the name a node has always stored them as. */
export function keyColumnsField(description: string) {
  return { ...columnList, title: 'Key columns', description } as const;
}

export const statementsField = {
  type: 'array',
  minItems: 1,
  title: 'Statements',
  items: { type: 'object', required: ['sql'], additionalProperties: false, properties: { sql: { type: 'string', minLength: 1, format: 'sql', title: 'SQL' }, params: { type: 'array', items: paramSchema, title: 'Parameters' } } },
  description: 'Run in order in one transaction.',
} as const;

/**
 * Which fields each operation uses and needs: the editor shows only the chosen operation's fields (the `then`
 * properties) and validation requires what the operation cannot run without. `extra` adds a node's own fields
 * per operation (e.g. readOnly, a statement timeout, the upsert key).
 */
export function perOperation(extra: Partial<Record<SqlOperation, { fields?: readonly string[]; required?: readonly string[] }>> = {}) {
  const shown = (op: SqlOperation, base: readonly string[]) => Object.fromEntries([...base, ...(extra[op]?.fields ?? [])].map((name) => [name, {}]));
  const needed = (op: SqlOperation, base: readonly string[]) => [...base, ...(extra[op]?.required ?? [])];
  const writeFields = ['table', 'columns', 'rowsFrom', 'batchSize', 'atomic'];
  return [
    { if: { properties: { operation: { const: 'query' } } }, then: { required: needed('query', ['sql']), properties: shown('query', ['sql', 'params', 'output', 'maxRows', 'pageSize']) } },
    { if: { properties: { operation: { const: 'insert' } }, required: ['operation'] }, then: { required: needed('insert', ['table']), properties: shown('insert', writeFields) } },
    { if: { properties: { operation: { const: 'upsert' } }, required: ['operation'] }, then: { required: needed('upsert', ['table']), properties: shown('upsert', [...writeFields, 'updateColumns']) } },
    { if: { properties: { operation: { const: 'transaction' } }, required: ['operation'] }, then: { required: needed('transaction', ['statements']), properties: shown('transaction', ['statements', 'maxRows']) } },
  ];
}
