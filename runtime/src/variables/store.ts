/**
 * Per-project environment variables (migration 14). The instance is the environment (dev, staging, prod: one Flowcrew
 * per environment, see docs/environments.md), so a variable is keyed by project and name. A plain variable keeps its
 * value here; a secret one keeps only the id of the vault credential that holds its value (encrypted, rotated and
 * backed up with the other credentials), never the value.
 */
import { num, strOrNull } from '../storage/row-values.ts';
import type { Row, SqlDialect, SqlDriver } from '../storage/sql-storage.ts';

export function variablesMigration(_dialect: SqlDialect): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS project_variables (
      project_id TEXT NOT NULL,
      name TEXT NOT NULL,
      value TEXT,
      secret_credential_id TEXT,
      description TEXT,
      updated_at BIGINT NOT NULL,
      updated_by TEXT,
      PRIMARY KEY (project_id, name)
    )`,
  ];
}

export interface VariableRecord {
  projectId: string;
  name: string;
  /** The value of a plain variable; null for a secret one. */
  value: string | null;
  /** The vault credential holding a secret variable's value; null for a plain one. */
  secretCredentialId: string | null;
  description: string | null;
  updatedAt: number;
  updatedBy: string | null;
}

export class VariableStore {
  constructor(private readonly driver: SqlDriver) {}

  async list(projectId: string): Promise<VariableRecord[]> {
    return (await this.driver.all('SELECT * FROM project_variables WHERE project_id = ? ORDER BY name', [projectId])).map(toRecord);
  }

  async get(projectId: string, name: string): Promise<VariableRecord | undefined> {
    const [row] = await this.driver.all('SELECT * FROM project_variables WHERE project_id = ? AND name = ?', [projectId, name]);
    return row ? toRecord(row) : undefined;
  }

  /** Insert or replace several variables in one transaction. */
  async put(records: readonly VariableRecord[]): Promise<void> {
    if (records.length === 0) return;
    await this.driver.writeBatch(
      records.map((r) => ({
        sql: `INSERT INTO project_variables (project_id, name, value, secret_credential_id, description, updated_at, updated_by)
              VALUES (?, ?, ?, ?, ?, ?, ?)
              ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value, secret_credential_id = excluded.secret_credential_id,
                description = excluded.description, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        params: [r.projectId, r.name, r.value, r.secretCredentialId, r.description, r.updatedAt, r.updatedBy],
      })),
    );
  }

  async remove(projectId: string, name: string): Promise<boolean> {
    const before = await this.get(projectId, name);
    if (!before) return false;
    await this.driver.writeBatch([{ sql: 'DELETE FROM project_variables WHERE project_id = ? AND name = ?', params: [projectId, name] }]);
    return true;
  }
}

function toRecord(row: Row): VariableRecord {
  return {
    projectId: String(row.project_id),
    name: String(row.name),
    value: strOrNull(row.value),
    secretCredentialId: strOrNull(row.secret_credential_id),
    description: strOrNull(row.description),
    updatedAt: num(row.updated_at),
    updatedBy: strOrNull(row.updated_by),
  };
}
