/** The MySQL / MariaDB node: a statement, a batch insert/upsert, or a transaction of statements. */
import type { Pool, PoolConnection } from 'mysql2/promise';
import { defineNode, type JsonSchema } from '@flowcrew/sdk';
import { type Param } from '../shared/params.ts';
import { withDefaults } from '../shared/props.ts';
import { sqlNodeInstance, type SqlDriver } from '../shared/sql-node.ts';
import { batchWriteFields, keyColumnsField, operationField, perOperation, readOnlyField, resultFields, statementFields, statementsField } from '../shared/sql-props.ts';
import { writeBatches, type TableInfo } from './batch.ts';
import { describeServer, MysqlError, poolHandle, withConnection, type MysqlFields } from './connect.ts';
import { mysqlCredential } from './credential.ts';
import { paramValues, readAtMost, runStatement, type Output } from './query.ts';

export interface MysqlProps {
  operation: 'query' | 'insert' | 'upsert' | 'transaction';
  sql?: string;
  params?: Param[];
  output: Output;
  maxRows: number;
  pageSize: number;
  readOnly: boolean;
  table?: string;
  columns?: string[];
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
    ...statementFields({ inSql: '? for each value', params: 'the ?s in order' }),
    ...resultFields(true),
    readOnly: readOnlyField,
    ...batchWriteFields({ tableName: 'name or database.name', updateDefault: "every written column not in the row's primary or unique key", maxBatch: 50_000, defaultBatch: 1000 }),
    statements: statementsField,
  },
  allOf: perOperation({ query: { fields: ['readOnly'] }, transaction: { fields: ['readOnly'] } }),
} as const satisfies JsonSchema;

const help = `# MySQL / MariaDB

Runs SQL on a MySQL or MariaDB server, with a **mysql** credential. Statements are prepared on the server and values
from the message are always bound to \`?\` placeholders, never pasted into the SQL.

- **query**: one statement. \`params\` lists the values for the \`?\`s in order: a message property (\`payload.id\`)
  or \`{ "value": 42 }\`. Output \`rows\` puts the rows in \`msg.payload\` (\`msg.rowCount\`); \`first\` the first row
  (MySQL cannot stop a result half-way: the rest goes with its connection, so add LIMIT 1);
  \`pages\` sends one message per page (\`msg.payload\` a blob reference of JSON Lines rows, \`msg.page\` which page and
  whether it is the last) and \`blob\` one message with every row in one blob: memory stays flat whatever the size.
  A statement without rows (INSERT, UPDATE...) gives \`msg.affectedRows\` and \`msg.insertId\`.
- **insert** / **upsert**: writes the rows at \`rowsFrom\` (an array, or a blob reference from a paged query) into
  \`table\`, \`batchSize\` rows per statement. Upsert is \`ON DUPLICATE KEY UPDATE\`: a row whose primary or unique
  key exists gets \`updateColumns\` updated. With \`atomic\` (default) all or nothing; without, each batch commits and a
  failure says which rows were written and which were not.
- **transaction**: several statements in order, all or nothing; \`msg.payload\` lists each one's result.

Numbers too large for JavaScript (BIGINT, DECIMAL) come as strings, dates as the server writes them. Errors name
the server, the operation and what it said (error code, SQLSTATE). SQL errors are not retried; lost connections
are. A cancelled run stops its statement on the server (KILL QUERY). One pool per credential is shared by every
node using it; editing the credential reconnects without a redeploy.`;

export const mysqlNode = defineNode<MysqlProps>({
  type: 'mysql',
  category: 'connector',
  label: 'MySQL / MariaDB',
  icon: 'database',
  color: '#00758f',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: mysqlCredential.name, schema: mysqlCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    return sqlNodeInstance(mysqlDriver, init, withDefaults<MysqlProps>(props, init.props), 'mysql');
  },
});

const mysqlDriver: SqlDriver<MysqlProps, Pool, PoolConnection, MysqlFields> = {
  label: 'MySQL',
  describeServer,
  pool: (init, credential) => poolHandle(init.services, credential),
  withConnection: (pool, fields, init, signal, fn) => withConnection(pool, fields, init.services, signal, fn),
  execute: (conn, sql) => conn.query(sql),
  begin: { readWrite: 'START TRANSACTION', readOnly: 'START TRANSACTION READ ONLY' },
  paramValues,
  runStatement,
  async transactionStep(conn, sql, values, limit) {
    const r = await readAtMost(conn, sql, values, limit);
    return { more: r.more, result: r.header ? { affectedRows: r.header.affectedRows, insertId: r.header.insertId } : { rowCount: r.rows.length, rows: r.rows } };
  },
  writeBatches: (conn, p, tableCache, source, signal) =>
    writeBatches(conn, { table: p.table!, mode: p.operation as 'insert' | 'upsert', columns: p.columns, updateColumns: p.updateColumns, batchSize: p.batchSize, atomic: p.atomic, tableCache: tableCache as Map<string, TableInfo> }, source, signal),
  error: (server, operation, cause) => new MysqlError(server, operation, cause),
};
