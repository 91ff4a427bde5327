/**
 * Migration 11 and the flow tests kept with a flow for the editor: one suite per flow (the same format as a test
 * file, without the flow reference: it is the row's flow). Kept beside the flow, not in its document, so editing
 * tests does not make a flow version. The sub-flow library's table comes with the same migration (subflows/store.ts).
 */
import { num, strOrNull } from '../storage/row-values.ts';
import type { Row, SqlDialect, SqlDriver } from '../storage/sql-storage.ts';
import { subflowTables } from '../subflows/store.ts';
import type { FlowTestSuite } from './format.ts';

export function flowTestsMigration(dialect: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS flow_tests (
      flow_id TEXT PRIMARY KEY,
      suite TEXT NOT NULL,
      updated_at BIGINT NOT NULL,
      updated_by TEXT
    )`,
    ...subflowTables(dialect),
  ];
}

/**
 * Migration 17: the suite's text as it was typed (YAML or JSON, comments kept), so the editor shows it back as
 * written; `suite` stays the parsed form the runner and the CLI use.
 */
export function flowTestSourceMigration(dialect: SqlDialect): string[] {
  return [`ALTER TABLE flow_tests ADD COLUMN ${dialect === 'postgres' ? 'IF NOT EXISTS ' : ''}source TEXT`];
}

export interface StoredSuite {
  flowId: string;
  suite: FlowTestSuite;
  /** The text it was saved from (YAML or JSON), when it was saved as text. */
  source?: string;
  updatedAt: number;
  updatedBy: string | null;
}

export class FlowTestStore {
  constructor(private readonly driver: SqlDriver) {}

  async get(flowId: string): Promise<StoredSuite | null> {
    const [row] = await this.driver.all('SELECT * FROM flow_tests WHERE flow_id = ?', [flowId]);
    return row ? toStored(row) : null;
  }

  /** Keep `suite` for `flowId`; `source` is the text it was parsed from (none when it was sent as JSON data). */
  async set(flowId: string, suite: FlowTestSuite, by: string, at = Date.now(), source?: string): Promise<StoredSuite> {
    await this.driver.writeBatch([
      {
        sql: `INSERT INTO flow_tests (flow_id, suite, source, updated_at, updated_by) VALUES (?, ?, ?, ?, ?)
              ON CONFLICT (flow_id) DO UPDATE SET suite = excluded.suite, source = excluded.source, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        params: [flowId, JSON.stringify(suite), source ?? null, at, by],
      },
    ]);
    return { flowId, suite, ...(source !== undefined ? { source } : {}), updatedAt: at, updatedBy: by };
  }

  async remove(flowId: string): Promise<boolean> {
    const [result] = await this.driver.writeBatch([{ sql: 'DELETE FROM flow_tests WHERE flow_id = ?', params: [flowId] }]);
    return (result?.changes ?? 0) > 0;
  }
}

function toStored(row: Row): StoredSuite {
  const source = strOrNull(row.source);
  return { flowId: String(row.flow_id), suite: JSON.parse(String(row.suite)) as FlowTestSuite, ...(source !== null ? { source } : {}), updatedAt: num(row.updated_at), updatedBy: strOrNull(row.updated_by) };
}
