/**
 * The sub-flow library's storage (migration 11, with flow tests): every published version of every sub-flow, kept
 * for ever (flows pin a version, so an old one must stay runnable). Instance-wide like node types, with the project
 * whose editors may publish new versions.
 */
import { num, strOrNull } from '../storage/row-values.ts';
import type { Row, SqlDialect, SqlDriver } from '../storage/sql-storage.ts';
import type { SubflowDefinition } from './definition.ts';

export function subflowTables(_dialect: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS subflow_versions (
      subflow_id TEXT NOT NULL,
      version BIGINT NOT NULL,
      name TEXT NOT NULL,
      project_id TEXT NOT NULL,
      definition TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      created_by TEXT,
      PRIMARY KEY (subflow_id, version)
    )`,
  ];
}

export interface SubflowVersion {
  definition: SubflowDefinition;
  projectId: string;
  createdAt: number;
  createdBy: string | null;
}

export class SubflowStore {
  constructor(private readonly driver: SqlDriver) {}

  async all(): Promise<SubflowVersion[]> {
    return (await this.driver.all('SELECT * FROM subflow_versions ORDER BY subflow_id, version')).map(toVersion);
  }

  async versions(id: string): Promise<SubflowVersion[]> {
    return (await this.driver.all('SELECT * FROM subflow_versions WHERE subflow_id = ? ORDER BY version', [id])).map(toVersion);
  }

  /**
   * Store `definition` as version `definition.version`; false when that version exists already (someone published
   * first: the primary key decides, so two publishers never both get the same number).
   */
  async insert(definition: SubflowDefinition, projectId: string, by: string, at = Date.now()): Promise<boolean> {
    try {
      await this.driver.writeBatch([
        {
          sql: 'INSERT INTO subflow_versions (subflow_id, version, name, project_id, definition, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?)',
          params: [definition.id, definition.version, definition.name, projectId, JSON.stringify(definition), at, by],
        },
      ]);
      return true;
    } catch (error) {
      if ((await this.versions(definition.id)).some((v) => v.definition.version === definition.version)) return false;
      throw error;
    }
  }
}

function toVersion(row: Row): SubflowVersion {
  return { definition: JSON.parse(String(row.definition)) as SubflowDefinition, projectId: String(row.project_id), createdAt: num(row.created_at), createdBy: strOrNull(row.created_by) };
}
