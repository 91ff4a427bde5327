/**
 * Projects, their members and the audit log in SQL (identity-sql.ts composes the IdentityStore from this and its
 * siblings).
 */
import type { ProjectRole } from '../identity/actor.ts';
import { ProjectNotEmptyError, type AuditFilter, type AuditRecord, type MemberRecord, type ProjectRecord } from './identity-types.ts';
import { assignments, num, strOrNull } from './row-values.ts';
import type { Row, SqlDriver, SqlParam, SqlWriter } from './sql-driver.ts';

export class SqlProjectStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly write: SqlWriter,
  ) {}

  async listProjects(): Promise<ProjectRecord[]> {
    return (await this.driver.all('SELECT * FROM projects ORDER BY LOWER(name), id')).map(toProject);
  }

  async getProject(id: string): Promise<ProjectRecord | null> {
    const row = await this.driver.get('SELECT * FROM projects WHERE id = ?', [id]);
    return row ? toProject(row) : null;
  }

  async insertProject(p: ProjectRecord): Promise<boolean> {
    return this.write(
      [
        {
          sql: 'INSERT INTO projects (id, name, description, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
          params: [p.id, p.name, p.description, p.createdAt, p.updatedAt],
        },
      ],
      ([r]) => r!.changes > 0,
    );
  }

  async updateProject(id: string, update: Partial<Pick<ProjectRecord, 'name' | 'description' | 'updatedAt'>>): Promise<boolean> {
    const columns = { name: 'name', description: 'description', updatedAt: 'updated_at' } as const;
    const { sets, params } = assignments(update, columns);
    if (sets.length === 0) return (await this.getProject(id)) !== null;
    return this.write([{ sql: `UPDATE projects SET ${sets.join(', ')} WHERE id = ?`, params: [...params, id] }], ([r]) => r!.changes > 0);
  }

  async deleteProject(id: string): Promise<boolean> {
    return this.write(
      [
        {
          // Checked inside the transaction, so a flow saved meanwhile cannot be orphaned.
          sql: `SELECT (SELECT COUNT(*) FROM flows WHERE project_id = ?) AS flows, (SELECT COUNT(*) FROM credentials WHERE project_id = ?) AS credentials`,
          params: [id, id],
          check: ({ rows }) => {
            const counts = { flows: num(rows[0]!.flows), credentials: num(rows[0]!.credentials) };
            if (counts.flows > 0 || counts.credentials > 0) throw new ProjectNotEmptyError(id, counts);
          },
        },
        { sql: 'DELETE FROM project_members WHERE project_id = ?', params: [id] },
        { sql: 'DELETE FROM api_tokens WHERE project_id = ?', params: [id] },
        { sql: 'DELETE FROM projects WHERE id = ?', params: [id] },
      ],
      (results) => results[3]!.changes > 0,
    );
  }

  async listMembers(projectId: string): Promise<MemberRecord[]> {
    return (await this.driver.all('SELECT * FROM project_members WHERE project_id = ? ORDER BY added_at, user_id', [projectId])).map(toMember);
  }

  async listMemberships(userId: string): Promise<MemberRecord[]> {
    return (await this.driver.all('SELECT * FROM project_members WHERE user_id = ? ORDER BY project_id', [userId])).map(toMember);
  }

  async setMember(m: MemberRecord): Promise<void> {
    return this.write(
      [
        {
          sql: `INSERT INTO project_members (project_id, user_id, role, added_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role`,
          params: [m.projectId, m.userId, m.role, m.addedAt],
        },
      ],
      () => undefined,
    );
  }

  async removeMember(projectId: string, userId: string): Promise<boolean> {
    return this.write([{ sql: 'DELETE FROM project_members WHERE project_id = ? AND user_id = ?', params: [projectId, userId] }], ([r]) => r!.changes > 0);
  }


  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return;
    const row = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
    return this.write(
      [
        {
          sql: `INSERT INTO audit_log (id, at, actor_kind, actor_id, actor_name, via, action, outcome, target_type, target_id, project_id, ip, detail)
                VALUES ${records.map(() => row).join(', ')}`,
          params: records.flatMap((r) => [r.id, r.at, r.actorKind, r.actorId, r.actorName, r.via, r.action, r.outcome, r.targetType, r.targetId, r.projectId, r.ip, r.detail]),
        },
      ],
      () => undefined,
    );
  }

  async queryAudit(filter: AuditFilter): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: SqlParam[] = [];
    const add = (sql: string, value: SqlParam) => {
      where.push(sql);
      params.push(value);
    };
    if (filter.actorId !== undefined) add('actor_id = ?', filter.actorId);
    if (filter.action !== undefined) add('action = ?', filter.action);
    // substr instead of LIKE: no wildcards to escape, same meaning in both dialects whatever the collation.
    if (filter.actionPrefix !== undefined) {
      where.push(`substr(action, 1, ${Math.trunc(filter.actionPrefix.length)}) = ?`);
      params.push(filter.actionPrefix);
    }
    if (filter.outcome !== undefined) add('outcome = ?', filter.outcome);
    if (filter.targetType !== undefined) add('target_type = ?', filter.targetType);
    if (filter.targetId !== undefined) add('target_id = ?', filter.targetId);
    if (filter.projectId !== undefined) add('project_id = ?', filter.projectId);
    if (filter.since !== undefined) add('at >= ?', filter.since);
    if (filter.until !== undefined) add('at < ?', filter.until);
    // Ids are time-ordered (UUIDv7), so the id is the cursor.
    if (filter.before !== undefined) add('id < ?', filter.before);
    const rows = await this.driver.all(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`,
      [...params, filter.limit],
    );
    return rows.map(toAudit);
  }
}

function toProject(row: Row): ProjectRecord {
  return { id: String(row.id), name: String(row.name), description: String(row.description ?? ''), createdAt: num(row.created_at), updatedAt: num(row.updated_at) };
}

function toMember(row: Row): MemberRecord {
  return { projectId: String(row.project_id), userId: String(row.user_id), role: String(row.role) as ProjectRole, addedAt: num(row.added_at) };
}

function toAudit(row: Row): AuditRecord {
  return {
    id: String(row.id),
    at: num(row.at),
    actorKind: String(row.actor_kind),
    actorId: String(row.actor_id),
    actorName: String(row.actor_name),
    via: String(row.via),
    action: String(row.action),
    outcome: String(row.outcome),
    targetType: strOrNull(row.target_type),
    targetId: strOrNull(row.target_id),
    projectId: strOrNull(row.project_id),
    ip: strOrNull(row.ip),
    detail: strOrNull(row.detail),
  };
}
