/** The PostgreSQL node: a statement, a batch insert/upsert, or a transaction of statements. */
import type pg from 'pg';
import { defineNode, type JsonSchema } from '@flowcrew/sdk';
import { withDefaults } from '../shared/props.ts';
import { sqlNodeInstance, type SqlDriver } from '../shared/sql-node.ts';
import { batchWriteFields, keyColumnsField, operationField, perOperation, readOnlyField, resultFields, statementFields, statementsField } from '../shared/sql-props.ts';
import { writeBatches } from './batch.ts';
import { describeServer, poolHandle, PostgresError, withClient, type PostgresFields } from './connect.ts';
import { postgresCredential } from './credential.ts';
import { paramValues, readAtMost, runStatement, type Output, type Param } from './query.ts';

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

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: operationField,
    ...statementFields({ inSql: '$1, $2... for values', params: '$1, $2... in order' }),
    ...resultFields(true),
    readOnly: readOnlyField,
    ...batchWriteFields({ tableName: 'name or schema.name', updateDefault: 'every written column but the key; empty: leave the row as it is', maxBatch: 50_000, defaultBatch: 1000 }),
    conflictColumns: keyColumnsField('Upsert: the unique key deciding between insert and update.'),
    statements: statementsField,
  },
  allOf: perOperation({ query: { fields: ['readOnly'] }, transaction: { fields: ['readOnly'] }, upsert: { fields: ['conflictColumns'], required: ['conflictColumns'] } }),
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
