/**
 * Flows in SQL: the current document and the deployed snapshot of each flow (table `flows`). Saves are guarded by
 * the version column (optimistic locking) and by the content hash (an unchanged document creates no revision); each
 * save and deploy writes its history row (versions.ts) in the same transaction.
 */
import type { FlowDocument } from '../flow/types.ts';
import { flowContentHash } from '../versions/hash.ts';
import { jsonOrNull, num, numOrNull } from './row-values.ts';
import type { Row, SqlDriver, SqlStatement, SqlWriter } from './sql-driver.ts';
import { VersionConflictError, type FlowSave, type StoredFlow } from './types.ts';
import { VersionStatements } from './versions.ts';

/** Where flows, credentials and runs go when no project is named (the identity migration creates it). */
export const DEFAULT_PROJECT_ID = 'default';

export class SqlFlowStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly write: SqlWriter,
  ) {}

  async listFlows(): Promise<StoredFlow[]> {
    const rows = await this.driver.all('SELECT * FROM flows ORDER BY LOWER(name), id');
    return rows.map(toStoredFlow);
  }

  async getFlow(id: string): Promise<StoredFlow | null> {
    const row = await this.driver.get('SELECT * FROM flows WHERE id = ?', [id]);
    return row ? toStoredFlow(row) : null;
  }

  async saveFlow(flow: FlowDocument, expectedVersion?: number, options: { projectId?: string } = {}): Promise<StoredFlow> {
    const now = Date.now();
    const projectId = options.projectId ?? DEFAULT_PROJECT_ID;
    // The version column is the truth; the document's own `version` is overwritten when read back.
    const document = JSON.stringify(flow);
    // An unchanged document (same content hash) updates nothing and creates no version.
    const hash = flowContentHash(flow);
    let change: SqlStatement;
    if (expectedVersion === undefined) {
      change = {
        sql: `INSERT INTO flows (id, name, version, document, deployed_version, created_at, updated_at, project_id, content_hash)
              VALUES (?, ?, 1, ?, NULL, ?, ?, ?, ?)
              ON CONFLICT (id) DO UPDATE SET name = excluded.name, version = flows.version + 1,
                document = excluded.document, updated_at = excluded.updated_at, content_hash = excluded.content_hash
              WHERE flows.content_hash IS NULL OR flows.content_hash <> excluded.content_hash`,
        params: [flow.id, flow.name, document, now, now, projectId, hash],
      };
    } else if (expectedVersion === 0) {
      // Version 0 = "must not exist yet" (create without overwriting someone else's flow of the same id).
      change = {
        sql: `INSERT INTO flows (id, name, version, document, deployed_version, created_at, updated_at, project_id, content_hash)
              VALUES (?, ?, 1, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        params: [flow.id, flow.name, document, now, now, projectId, hash],
      };
    } else {
      // The WHERE on version makes the check atomic with the write, inside the transaction.
      change = {
        sql: `UPDATE flows SET name = ?, version = version + 1, document = ?, updated_at = ?, content_hash = ?
              WHERE id = ? AND version = ? AND (content_hash IS NULL OR content_hash <> ?)`,
        params: [flow.name, document, now, hash, flow.id, expectedVersion, hash],
      };
    }
    // Read back in the same transaction: the stored version, or the actual one for the conflict message.
    const readBack: SqlStatement = { sql: 'SELECT * FROM flows WHERE id = ?', params: [flow.id] };
    return this.write([change, VersionStatements.capture(flow.id), readBack], ([changed, , read]) => {
      const row = read!.rows[0];
      const unchanged = row && row.content_hash === hash && expectedVersion !== 0 && (expectedVersion === undefined || num(row.version) === expectedVersion);
      if ((changed!.changes === 0 && !unchanged) || !row) {
        throw new VersionConflictError(flow.id, expectedVersion ?? 0, row ? num(row.version) : 0);
      }
      return toStoredFlow(row);
    });
  }

  async setDeployed(id: string, version: number | null): Promise<void> {
    // Deploying snapshots the current document; the version guard refuses a revision that is no longer current.
    const statement: SqlStatement =
      version === null
        ? { sql: 'UPDATE flows SET deployed_version = NULL, deployed_document = NULL WHERE id = ?', params: [id] }
        : { sql: 'UPDATE flows SET deployed_version = version, deployed_document = document WHERE id = ? AND version = ?', params: [id, version] };
    return this.write([statement, VersionStatements.deployed(id, version), { sql: 'SELECT version FROM flows WHERE id = ?', params: [id] }], ([r, , read]) => {
      if (r!.changes > 0) return;
      const row = read!.rows[0];
      if (!row) throw new Error(`Cannot set the deployed version of flow "${id}": no such flow.`);
      throw new VersionConflictError(id, version ?? 0, num(row.version));
    });
  }

  async deleteFlow(id: string): Promise<boolean> {
    return this.write([{ sql: 'DELETE FROM flows WHERE id = ?', params: [id] }, ...VersionStatements.forget(id)], ([r]) => r!.changes > 0);
  }

  async saveFlows(saves: readonly FlowSave[], options: { deploy?: boolean } = {}): Promise<StoredFlow[]> {
    if (saves.length === 0) return [];
    const now = Date.now();
    const statements: SqlStatement[] = [];
    for (const { flow, expectedVersion, projectId = DEFAULT_PROJECT_ID } of saves) {
      const document = JSON.stringify(flow);
      const hash = flowContentHash(flow);
      let changes = 0;
      // Checked INSIDE the transaction: a conflict throws there, which rolls back every flow of the import.
      statements.push({
        ...(expectedVersion === 0
          ? {
              sql: `INSERT INTO flows (id, name, version, document, deployed_version, created_at, updated_at, project_id, content_hash)
                    VALUES (?, ?, 1, ?, NULL, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
              params: [flow.id, flow.name, document, now, now, projectId, hash],
            }
          : {
              sql: 'UPDATE flows SET name = ?, version = version + 1, document = ?, updated_at = ?, content_hash = ? WHERE id = ? AND version = ?',
              params: [flow.name, document, now, hash, flow.id, expectedVersion],
            }),
        check: (result) => {
          changes = result.changes;
        },
      });
      statements.push(VersionStatements.capture(flow.id));
      if (options.deploy) {
        statements.push({ sql: 'UPDATE flows SET deployed_version = version, deployed_document = document WHERE id = ?', params: [flow.id] });
        statements.push(VersionStatements.deployed(flow.id, 'current', now));
      }
      statements.push({
        sql: 'SELECT * FROM flows WHERE id = ?',
        params: [flow.id],
        check: (result) => {
          const row = result.rows[0];
          if (changes === 0 || !row) throw new VersionConflictError(flow.id, expectedVersion, row ? num(row.version) : 0);
        },
      });
    }
    return this.write(statements, (results) => results.filter((_, i) => statements[i]!.sql.startsWith('SELECT')).map((r) => toStoredFlow(r.rows[0]!)));
  }
}

function toStoredFlow(row: Row): StoredFlow {
  const flow = jsonOrNull(row.document) as FlowDocument;
  flow.id = String(row.id);
  flow.version = num(row.version);
  let deployedFlow: FlowDocument | null = null;
  if (row.deployed_document !== null && row.deployed_document !== undefined) {
    deployedFlow = jsonOrNull(row.deployed_document) as FlowDocument;
    deployedFlow.id = String(row.id);
    deployedFlow.version = num(row.deployed_version);
  }
  return {
    flow,
    deployedFlow,
    deployedVersion: numOrNull(row.deployed_version),
    projectId: String(row.project_id),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}
