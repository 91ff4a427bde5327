/** The PostgreSQL node: a statement, a batch insert/upsert, or a transaction of statements. */
import type pg from 'pg';
import { defineNode, type JsonSchema } from '@flowcrew/sdk';
import { withDefaults } from '../shared/props.ts';
import { sqlNodeInstance, type SqlDriver } from '../shared/sql-node.ts';
import { writeBatches } from './batch.ts';
import { describeServer, poolHandle, PostgresError, withClient, type PostgresFields } from './connect.ts';
import { postgresCredential } from './credential.ts';
import { paramSchema, paramValues, readAtMost, runStatement, type Output, type Param } from './query.ts';

export interface PostgresProps {
  operation: 'query' | 'insert' | 'upsert' | 'transaction';
  sql?: string;
  params?: Param[];
  output: Output;
  maxRows: number;
  pageSize: number;
  readOnly: boolean;
  table?: string;
  columns?: string[];
  conflictColumns?: string[];
  updateColumns?: string[];
  rowsFrom: string;
  batchSize: number;
  atomic: boolean;
  statements?: Array<{ sql: string; params?: Param[] }>;
}

const columnList = { type: 'array', items: { type: 'string', minLength: 1 }, uniqueItems: true } as const;

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: { enum: ['query', 'insert', 'upsert', 'transaction'], default: 'query', description: 'query: one statement. insert/upsert: rows in batches. transaction: several statements, all or nothing.' },
    sql: { type: 'string', minLength: 1, format: 'sql', description: 'The statement, with $1, $2... for values (message data is never put into the SQL text).' },
    params: { type: 'array', items: paramSchema, default: [], description: 'Values for $1, $2...: a message property (payload.id) or { "value": ... }.' },
    output: { enum: ['rows', 'first', 'pages', 'blob'], default: 'rows', description: 'rows: all rows in msg.payload (up to maxRows). first: the first row. pages: one message per page (a blob of JSON Lines each). blob: one message, every row in one JSON Lines blob.' },
    maxRows: { type: 'integer', minimum: 1, maximum: 1_000_000, default: 10_000, description: 'output rows: more rows than this fail the statement (use pages for large results).' },
    pageSize: { type: 'integer', minimum: 1, maximum: 100_000, default: 1000 },
    readOnly: { type: 'boolean', default: false, description: 'Run in a read-only transaction (e.g. when an AI agent writes the SQL).' },
    table: { type: 'string', minLength: 1, description: 'insert/upsert: the table, as name or schema.name.' },
    columns: { ...columnList, description: 'insert/upsert: the columns written (default: the keys of the first rows). A column missing from a row is written as NULL.' },
    conflictColumns: { ...columnList, description: 'upsert: the unique key deciding between insert and update.' },
    updateColumns: { ...columnList, description: 'upsert: the columns updated when the key exists (default: all written columns but the key; empty: leave the row as it is).' },
    rowsFrom: { type: 'string', minLength: 1, default: 'payload', description: 'insert/upsert: where the rows are: an array, or a JSON Lines blob reference (e.g. pages of another query).' },
    batchSize: { type: 'integer', minimum: 1, maximum: 50_000, default: 1000 },
    atomic: { type: 'boolean', default: true, description: 'insert/upsert: every batch in one transaction (a failure writes nothing). Off: each batch commits on its own.' },
    statements: {
      type: 'array',
      minItems: 1,
      items: { type: 'object', required: ['sql'], additionalProperties: false, properties: { sql: { type: 'string', minLength: 1, format: 'sql' }, params: { type: 'array', items: paramSchema } } },
      description: 'transaction: the statements, run in order in one transaction.',
    },
  },
  allOf: [
    { if: { properties: { operation: { const: 'query' } } }, then: { required: ['sql'] } },
    { if: { properties: { operation: { enum: ['insert', 'upsert'] } }, required: ['operation'] }, then: { required: ['table'] } },
    { if: { properties: { operation: { const: 'upsert' } }, required: ['operation'] }, then: { required: ['conflictColumns'] } },
    { if: { properties: { operation: { const: 'transaction' } }, required: ['operation'] }, then: { required: ['statements'] } },
  ],
} as const satisfies JsonSchema;

const help = `# PostgreSQL

Runs SQL on a PostgreSQL server, with a **postgres** credential. Values from the message are always sent as
parameters (\`$1\`, \`$2\`, ...), never pasted into the SQL.

- **query**: one statement. \`params\` lists its values: a message property (\`payload.id\`) or \`{ "value": 42 }\`.
  Output \`rows\` puts the rows in \`msg.payload\` (and \`msg.rowCount\`, \`msg.command\`); \`first\` the first row;
  for large results \`pages\` sends one message per page (\`msg.payload\` is a blob reference of JSON Lines rows,
  \`msg.page\` says which page and whether it is the last) and \`blob\` one message with every row in one blob. Memory
  stays flat whatever the size. \`readOnly\` runs the statement in a read-only transaction.
- **insert** / **upsert**: writes the rows at \`rowsFrom\` (an array, or a blob reference from a paged query) into
  \`table\` in batches. Upsert updates the rows whose \`conflictColumns\` exist. With \`atomic\` (default) all or
  nothing; without, each batch commits and a failure says which rows were written and which were not.
- **transaction**: several statements in order, all or nothing; \`msg.payload\` lists each one's result.

Errors name the server, the operation and what PostgreSQL said (SQLSTATE, detail, position). SQL errors are not
retried; lost connections are (per the node's retry settings). One connection pool per credential is shared by every
node using it; editing the credential reconnects without a redeploy.`;

export const postgresNode = defineNode<PostgresProps>({
  type: 'postgres',
  category: 'connector',
  label: 'PostgreSQL',
  icon: 'database',
  color: '#336791',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: postgresCredential.name, schema: postgresCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    return sqlNodeInstance(postgresDriver, init, withDefaults<PostgresProps>(props, init.props), 'postgres');
  },
});

const postgresDriver: SqlDriver<PostgresProps, pg.Pool, pg.PoolClient, PostgresFields> = {
  label: 'PostgreSQL',
  describeServer,
  pool: (init, credential) => poolHandle(init.services, credential, init.log),
  withConnection: (pool, _fields, _init, signal, fn) => withClient(pool, signal, fn),
  execute: (client, sql) => client.query(sql),
  begin: { readWrite: 'BEGIN', readOnly: 'BEGIN TRANSACTION READ ONLY' },
  paramValues,
  runStatement,
  async transactionStep(client, sql, values, limit) {
    const r = await readAtMost(client, sql, values, limit);
    return { more: r.more, result: { command: r.command, rowCount: r.rowCount ?? r.rows.length, rows: r.rows } };
  },
  writeBatches: (client, p, tableCache, source, signal) =>
    writeBatches(
      client,
      { table: p.table!, mode: p.operation as 'insert' | 'upsert', columns: p.columns, conflictColumns: p.conflictColumns, updateColumns: p.updateColumns, batchSize: p.batchSize, atomic: p.atomic, columnCache: tableCache as Map<string, Set<string>> },
      source,
      signal,
    ),
  error: (server, operation, cause) => new PostgresError(server, operation, cause),
};
