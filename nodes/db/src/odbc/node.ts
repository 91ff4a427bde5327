/** The ODBC node: a parameterised statement (rows, first row, or pages) or a transaction of statements. */
import type odbc from 'odbc';
import { defineNode, getProperty, inPages, NodeInputError, sendRowPages, type FlowMessage, type InputContext, type JsonSchema, type NodeCredential } from '@flowcrew/sdk';
import { resolveParams, jsonEncoded, type Param } from '../shared/params.ts';
import { withDefaults } from '../shared/props.ts';
import { rowSource } from '../shared/rows.ts';
import { BatchError } from '../shared/sql-node.ts';
import { batchWriteFields, keyColumnsField, operationField, perOperation, resultFields, statementFields, statementsField } from '../shared/sql-props.ts';
import { writeOdbcBatches } from './batch.ts';
import { describeServer, OdbcError, plainRow, poolHandle, type OdbcFields } from './connect.ts';
import { odbcCredential } from './credential.ts';

export interface OdbcProps {
  operation: 'query' | 'transaction' | 'insert' | 'upsert';
  table?: string;
  columns?: string[];
  keyColumns?: string[];
  updateColumns?: string[];
  rowsFrom: string;
  batchSize: number;
  atomic: boolean;
  sql?: string;
  params?: Param[];
  output: 'rows' | 'first' | 'pages';
  maxRows: number;
  pageSize: number;
  timeoutSeconds: number;
  statements?: Array<{ sql: string; params?: Param[] }>;
}

const props = {
  type: 'object',
  additionalProperties: false,
  properties: {
    operation: operationField,
    ...statementFields({ inSql: '? for each value', params: 'the ?s in order' }),
    ...resultFields(false),
    timeoutSeconds: { type: 'integer', minimum: 0, default: 0, title: 'Statement timeout (s)', description: 'Sent to the driver (SQL_ATTR_QUERY_TIMEOUT); 0: none.' },
    ...batchWriteFields({ tableName: 'name or schema.name', updateDefault: 'all but the key columns', maxBatch: 10_000, defaultBatch: 500 }),
    keyColumns: keyColumnsField('Upsert: the unique key rows are matched on (PostgreSQL needs it; MariaDB/MySQL match on any unique key).'),
    statements: statementsField,
  },
  allOf: perOperation({ query: { fields: ['timeoutSeconds'] }, transaction: { fields: ['timeoutSeconds'] }, upsert: { fields: ['keyColumns'] } }),
} as const satisfies JsonSchema;

const help = `# ODBC

Runs SQL through an ODBC driver installed on the runtime's host (unixODBC: \`odbcinst -q -d\` lists them), with an
**odbc** credential. Values from the message are bound to \`?\` placeholders, never pasted into the SQL.

- **query**: one statement; output \`rows\` (up to \`maxRows\`, read through a cursor), \`first\`, or \`pages\` (one
  message per page, each a JSON Lines blob). Statements without rows give \`msg.rowCount\` (rows affected).
- **transaction**: several statements in order, all or nothing.
- **insert / upsert**: rows (\`msg.payload\` or \`rowsFrom\`: an array of objects or a JSON Lines blob) in multi-row
  INSERTs of \`batchSize\`, all in one transaction (\`atomic\`) or committed per batch; upsert uses the driver's
  dialect (PostgreSQL ON CONFLICT on \`keyColumns\`, MariaDB/MySQL ON DUPLICATE KEY UPDATE), other drivers insert only.

Errors name the server, the driver, the operation and what the driver said, with its SQLSTATE. BIGINT values come
as numbers when exact, else as strings. The ODBC package cannot interrupt a running statement: a cancelled run stops
waiting at once, and the connection is given back only when the statement ends (set a statement timeout).`;

export const odbcNode = defineNode<OdbcProps>({
  type: 'odbc',
  category: 'connector',
  label: 'ODBC',
  icon: 'database',
  color: '#5b6770',
  inputs: 1,
  outputs: 1,
  props,
  credentials: { type: odbcCredential.name, schema: odbcCredential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<OdbcFields> | undefined;
    if (!credential) throw new Error('needs an odbc credential');
    const pool = poolHandle(init.services, credential);
    const p = withDefaults<OdbcProps>(props, init.props);
    const values = (params: Param[] | undefined, msg: FlowMessage, where: string) => resolveParams(params, msg, where, (i) => `?${i + 1}`, (v) => jsonEncoded(typeof v === 'boolean' ? Number(v) : v, true)) as Array<string | number>;
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const server = describeServer(credential.fields);
        const what = p.operation === 'transaction' ? `transaction of ${p.statements?.length} statements` : p.operation === 'query' ? 'query' : `${p.operation} into ${p.table}`;
        try {
          return await pool.use(async (odbcPool) => {
            const conn = await odbcPool.connect();
            const work = (async () => {
              if (p.operation === 'insert' || p.operation === 'upsert') {
                const source = rowSource(getProperty(msg, p.rowsFrom), init.services.blobs, p.batchSize, `msg.${p.rowsFrom}`);
                const options = { table: p.table!, mode: p.operation, columns: p.columns, keyColumns: p.keyColumns, updateColumns: p.updateColumns, atomic: p.atomic };
                return { ...msg, payload: await writeOdbcBatches(conn, credential.fields.driver, options, source) };
              }
              if (p.operation === 'transaction') {
                const statements = p.statements!.map((s, i) => ({ sql: s.sql, values: values(s.params, msg, `/statements/${i}/params`) }));
                await conn.beginTransaction();
                try {
                  const results = [];
                  for (const [i, s] of statements.entries()) {
                    try {
                      const r = await readAtMost(conn, s.sql, s.values, p.maxRows, p.timeoutSeconds);
                      results.push(r.columns ? { rowCount: r.rows.length, rows: r.rows } : { rowCount: r.count });
                    } catch (error) {
                      throw Object.assign(error as Error, { step: `statement ${i + 1} of ${statements.length} failed, the transaction was rolled back: ` });
                    }
                  }
                  await conn.commit();
                  return { ...msg, payload: results };
                } catch (error) {
                  await conn.rollback().catch(() => undefined);
                  throw error;
                }
              }
              const bound = values(p.params, msg, '/params');
              if (p.output === 'pages') {
                // Seen here with MariaDB Connector/ODBC 3.1 under the odbc package: a cursor's fetches after the first
                // block return no rows, so a paged read would silently lose rows. Refused instead.
                if (/maria|mysql/i.test(credential.fields.driver)) throw new NodeInputError('output "pages" is not available with the MariaDB/MySQL ODBC driver (its cursor returns only the first block of rows here): use the MySQL / MariaDB node for large results');
                const { payload: _payload, ...base } = msg;
                // Some drivers hand over more than fetchSize at once (MariaDB's without NO_CACHE=1): pages are cut again.
                await sendRowPages(ctx, init.services.blobs, inPages(rowsOf(conn, p.sql!, bound, p.pageSize, p.timeoutSeconds), p.pageSize), { base });
                return null;
              }
              const r = await readAtMost(conn, p.sql!, bound, p.output === 'first' ? 1 : p.maxRows, p.timeoutSeconds);
              if (!r.columns) return { ...msg, payload: r.count, rowCount: r.count };
              if (p.output === 'rows' && r.more) throw new NodeInputError(`the statement returned more than ${p.maxRows} rows (maxRows): choose output "pages" for large results, or raise maxRows`);
              return { ...msg, payload: p.output === 'first' ? (r.rows[0] ?? null) : r.rows, rowCount: r.rows.length };
            })();
            // The connection goes back to the pool when the statement has ended, even after an abort.
            const settled = work.finally(() => conn.close().catch(() => undefined));
            settled.catch(() => undefined);
            const aborted = new Promise<never>((_, reject) => {
              if (ctx.signal.aborted) reject(ctx.signal.reason as Error);
              ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true });
            });
            aborted.catch(() => undefined);
            return Promise.race([settled, aborted]);
          });
        } catch (error) {
          if (ctx.signal.aborted) throw ctx.signal.reason as Error;
          if (error instanceof NodeInputError || error instanceof BatchError) throw new NodeInputError(`ODBC ${server}: ${what}: ${error.message}`);
          const e = new OdbcError(server, what, error);
          const step = (error as { step?: string }).step;
          if (step) e.message = e.message.replace(`${what} failed: `, `${what} failed: ${step}`);
          throw e;
        }
      },
      close() {
        pool.release();
      },
    };
  },
});

/** Up to `limit` rows through a cursor (`more`: rows were left); a statement without a result gives its count. */
async function readAtMost(conn: odbc.Connection, sql: string, values: Array<string | number>, limit: number, timeout: number) {
  // One block of limit + 1 rows: enough to know whether there are more (and the only block some drivers return).
  const cursor = await conn.query(sql, values, { cursor: true, fetchSize: limit + 1, ...(timeout ? { timeout } : {}) });
  try {
    const rows: Record<string, unknown>[] = [];
    let columns: unknown[] | undefined;
    let count = 0;
    while (rows.length <= limit) {
      const batch = (await cursor.fetch()) as odbc.Result<Record<string, unknown>>;
      columns ??= batch.columns?.length ? batch.columns : undefined;
      count = batch.count;
      rows.push(...batch.map(plainRow));
      if (cursor.noData || batch.length === 0) break;
    }
    return { rows: rows.slice(0, limit), more: rows.length > limit, columns, count };
  } finally {
    await cursor.close().catch(() => undefined);
  }
}

async function* rowsOf(conn: odbc.Connection, sql: string, values: Array<string | number>, pageSize: number, timeout: number): AsyncIterable<Record<string, unknown>> {
  const cursor = await conn.query(sql, values, { cursor: true, fetchSize: pageSize, ...(timeout ? { timeout } : {}) });
  try {
    for (;;) {
      const batch = (await cursor.fetch()) as odbc.Result<Record<string, unknown>>;
      for (const row of batch) yield plainRow(row);
      if (cursor.noData || batch.length === 0) return;
    }
  } finally {
    await cursor.close().catch(() => undefined);
  }
}
