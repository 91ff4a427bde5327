/**
 * The identity tables in SQL, for SQLite and PostgreSQL (same `?` SQL as sql-storage.ts): migration 6's schema and
 * the IdentityStore over a SqlDriver. Writes go through the storage's group-commit writer like every other write.
 */
import {
  ProjectNotEmptyError,
  type AuditFilter,
  type AuditRecord,
  type IdentityStore,
  type MemberRecord,
  type ProjectRecord,
  type SessionRecord,
  type TokenFilter,
  type TokenRecord,
  type UserRecord,
  type UserUpdate,
} from './identity-types.ts';
import type { Row, SqlDialect, SqlDriver, SqlParam, SqlStatement, StatementResult } from './sql-storage.ts';
import type { InstanceRole, ProjectRole } from '../identity/actor.ts';
import { num, numOrNull, strOrNull } from './row-values.ts';

/** Migration 6: users, sessions, API tokens, projects and members, the audit log; a project on flows, credentials, runs. */
export function identityMigration(dialect: SqlDialect): string[] {
  const addColumn = (table: string) =>
    dialect === 'postgres'
      ? `ALTER TABLE ${table} ADD COLUMN IF NOT EXISTS project_id TEXT NOT NULL DEFAULT 'default'`
      : `ALTER TABLE ${table} ADD COLUMN project_id TEXT NOT NULL DEFAULT 'default'`;
  // The audit log is append-only in the database too, so no code path (or mistaken SQL) can rewrite history: both
  // dialects refuse UPDATE and DELETE with an error (a trigger), rather than ignoring them silently.
  const appendOnly =
    dialect === 'postgres'
      ? [
          `CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS
           'BEGIN RAISE EXCEPTION ''audit_log is append-only''; END'`,
          `CREATE OR REPLACE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
           FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
        ]
      : [
          `CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
          `CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
        ];
  return [
    `CREATE TABLE IF NOT EXISTS users (
      id TEXT PRIMARY KEY,
      username TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      password_hash TEXT,
      instance_role TEXT NOT NULL,
      disabled INTEGER NOT NULL DEFAULT 0,
      failed_logins INTEGER NOT NULL DEFAULT 0,
      last_failed_at BIGINT,
      locked_until BIGINT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      last_login_at BIGINT
    )`,
    `CREATE TABLE IF NOT EXISTS sessions (
      id_hash TEXT PRIMARY KEY,
      user_id TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      last_seen_at BIGINT NOT NULL,
      ip TEXT,
      user_agent TEXT
    )`,
    'CREATE INDEX IF NOT EXISTS sessions_user ON sessions (user_id)',
    'CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires_at)',
    `CREATE TABLE IF NOT EXISTS api_tokens (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      hash TEXT NOT NULL UNIQUE,
      prefix TEXT NOT NULL,
      project_id TEXT NOT NULL,
      permissions TEXT NOT NULL,
      created_by TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT,
      revoked_at BIGINT,
      last_used_at BIGINT
    )`,
    'CREATE INDEX IF NOT EXISTS api_tokens_project ON api_tokens (project_id, created_at)',
    'CREATE INDEX IF NOT EXISTS api_tokens_creator ON api_tokens (created_by)',
    `CREATE TABLE IF NOT EXISTS projects (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
    `INSERT INTO projects (id, name, description, created_at, updated_at)
     VALUES ('default', 'Default', 'Everything created before projects existed, and what is not put elsewhere.', 0, 0)
     ON CONFLICT (id) DO NOTHING`,
    `CREATE TABLE IF NOT EXISTS project_members (
      project_id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      role TEXT NOT NULL,
      added_at BIGINT NOT NULL,
      PRIMARY KEY (project_id, user_id)
    )`,
    'CREATE INDEX IF NOT EXISTS project_members_user ON project_members (user_id)',
    `CREATE TABLE IF NOT EXISTS audit_log (
      id TEXT PRIMARY KEY,
      at BIGINT NOT NULL,
      actor_kind TEXT NOT NULL,
      actor_id TEXT NOT NULL,
      actor_name TEXT NOT NULL,
      via TEXT NOT NULL,
      action TEXT NOT NULL,
      outcome TEXT NOT NULL,
      target_type TEXT,
      target_id TEXT,
      project_id TEXT,
      ip TEXT,
      detail TEXT
    )`,
    'CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log (at)',
    'CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log (actor_id, id)',
    'CREATE INDEX IF NOT EXISTS audit_log_action ON audit_log (action, id)',
    'CREATE INDEX IF NOT EXISTS audit_log_target ON audit_log (target_type, target_id)',
    ...appendOnly,
    addColumn('flows'),
    addColumn('credentials'),
    addColumn('runs'),
    'CREATE INDEX IF NOT EXISTS flows_project ON flows (project_id)',
    'CREATE INDEX IF NOT EXISTS credentials_project ON credentials (project_id)',
    'CREATE INDEX IF NOT EXISTS runs_project_created ON runs (project_id, created_at)',
  ];
}

type Write = <T>(statements: SqlStatement[], finish: (results: StatementResult[]) => T) => Promise<T>;

/** Serialises first-user creation on PostgreSQL (SQLite's BEGIN IMMEDIATE already does). */
const FIRST_USER_LOCK = 0x46435531;

const USER_COLUMNS = {
  name: 'name',
  passwordHash: 'password_hash',
  instanceRole: 'instance_role',
  disabled: 'disabled',
  lockedUntil: 'locked_until',
  lastLoginAt: 'last_login_at',
  failedLogins: 'failed_logins',
  lastFailedAt: 'last_failed_at',
  updatedAt: 'updated_at',
} as const satisfies Record<keyof UserUpdate, string>;

export class SqlIdentityStore implements IdentityStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly write: Write,
  ) {}

  // Users ----------------------------------------------------------------------------------------------------------

  async countUsers(): Promise<number> {
    return num((await this.driver.get('SELECT COUNT(*) AS n FROM users'))!.n);
  }

  async listUsers(): Promise<UserRecord[]> {
    return (await this.driver.all('SELECT * FROM users ORDER BY username')).map(toUser);
  }

  async getUser(id: string): Promise<UserRecord | null> {
    const row = await this.driver.get('SELECT * FROM users WHERE id = ?', [id]);
    return row ? toUser(row) : null;
  }

  async getUserByUsername(username: string): Promise<UserRecord | null> {
    const row = await this.driver.get('SELECT * FROM users WHERE username = ?', [username]);
    return row ? toUser(row) : null;
  }

  async insertUser(user: UserRecord): Promise<void> {
    return this.write([insertUserStatement(user)], () => undefined);
  }

  async insertFirstUser(user: UserRecord, projectId: string): Promise<boolean> {
    const lock: SqlStatement[] = this.driver.dialect === 'postgres' ? [{ sql: 'SELECT pg_advisory_xact_lock(?)', params: [FIRST_USER_LOCK] }] : [];
    const insert = insertUserStatement(user, 'SELECT ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM users)');
    return this.write(
      [
        ...lock,
        insert,
        {
          sql: `INSERT INTO project_members (project_id, user_id, role, added_at)
                SELECT ?, id, 'owner', ? FROM users WHERE id = ? AND (SELECT COUNT(*) FROM users) = 1`,
          params: [projectId, user.createdAt, user.id],
        },
      ],
      (results) => results[lock.length]!.changes > 0,
    );
  }

  async updateUser(id: string, update: UserUpdate): Promise<boolean> {
    const sets: string[] = [];
    const params: SqlParam[] = [];
    for (const [field, column] of Object.entries(USER_COLUMNS)) {
      const value = update[field as keyof UserUpdate];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      params.push(typeof value === 'boolean' ? (value ? 1 : 0) : value);
    }
    if (sets.length === 0) return (await this.getUser(id)) !== null;
    return this.write([{ sql: `UPDATE users SET ${sets.join(', ')} WHERE id = ?`, params: [...params, id] }], ([r]) => r!.changes > 0);
  }

  async deleteUser(id: string): Promise<boolean> {
    return this.write(
      [
        { sql: 'DELETE FROM sessions WHERE user_id = ?', params: [id] },
        { sql: 'DELETE FROM api_tokens WHERE created_by = ?', params: [id] },
        { sql: 'DELETE FROM project_members WHERE user_id = ?', params: [id] },
        { sql: 'DELETE FROM users WHERE id = ?', params: [id] },
      ],
      (results) => results[3]!.changes > 0,
    );
  }

  async noteLoginFailure(id: string, at: number, windowStart: number, max: number, lockUntil: number) {
    return this.write(
      [
        {
          // Failures older than the window are forgotten: the count restarts at 1.
          sql: `UPDATE users SET failed_logins = CASE WHEN last_failed_at IS NOT NULL AND last_failed_at >= ? THEN failed_logins + 1 ELSE 1 END,
                last_failed_at = ? WHERE id = ?`,
          params: [windowStart, at, id],
        },
        { sql: 'UPDATE users SET locked_until = ? WHERE id = ? AND failed_logins >= ?', params: [lockUntil, id, max] },
        { sql: 'SELECT failed_logins, locked_until FROM users WHERE id = ?', params: [id] },
      ],
      (results) => {
        const row = results[2]!.rows[0];
        return row ? { failedLogins: num(row.failed_logins), lockedUntil: numOrNull(row.locked_until) } : null;
      },
    );
  }

  // Sessions -------------------------------------------------------------------------------------------------------

  async insertSession(s: SessionRecord): Promise<void> {
    return this.write(
      [
        {
          sql: 'INSERT INTO sessions (id_hash, user_id, created_at, expires_at, last_seen_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)',
          params: [s.idHash, s.userId, s.createdAt, s.expiresAt, s.lastSeenAt, s.ip, s.userAgent],
        },
      ],
      () => undefined,
    );
  }

  async getSession(idHash: string): Promise<SessionRecord | null> {
    const row = await this.driver.get('SELECT * FROM sessions WHERE id_hash = ?', [idHash]);
    return row
      ? {
          idHash: String(row.id_hash),
          userId: String(row.user_id),
          createdAt: num(row.created_at),
          expiresAt: num(row.expires_at),
          lastSeenAt: num(row.last_seen_at),
          ip: strOrNull(row.ip),
          userAgent: strOrNull(row.user_agent),
        }
      : null;
  }

  async touchSession(idHash: string, at: number): Promise<void> {
    return this.write([{ sql: 'UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?', params: [at, idHash] }], () => undefined);
  }

  async deleteSession(idHash: string): Promise<boolean> {
    return this.write([{ sql: 'DELETE FROM sessions WHERE id_hash = ?', params: [idHash] }], ([r]) => r!.changes > 0);
  }

  async deleteUserSessions(userId: string, exceptIdHash?: string): Promise<number> {
    const statement: SqlStatement =
      exceptIdHash === undefined
        ? { sql: 'DELETE FROM sessions WHERE user_id = ?', params: [userId] }
        : { sql: 'DELETE FROM sessions WHERE user_id = ? AND id_hash <> ?', params: [userId, exceptIdHash] };
    return this.write([statement], ([r]) => r!.changes);
  }

  async pruneSessions(now: number): Promise<number> {
    return this.write([{ sql: 'DELETE FROM sessions WHERE expires_at <= ?', params: [now] }], ([r]) => r!.changes);
  }

  // API tokens -----------------------------------------------------------------------------------------------------

  async insertToken(t: TokenRecord): Promise<void> {
    return this.write(
      [
        {
          sql: `INSERT INTO api_tokens (id, name, hash, prefix, project_id, permissions, created_by, created_at, expires_at, revoked_at, last_used_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          params: [t.id, t.name, t.hash, t.prefix, t.projectId, JSON.stringify(t.permissions), t.createdBy, t.createdAt, t.expiresAt, t.revokedAt, t.lastUsedAt],
        },
      ],
      () => undefined,
    );
  }

  async getToken(id: string): Promise<TokenRecord | null> {
    const row = await this.driver.get('SELECT * FROM api_tokens WHERE id = ?', [id]);
    return row ? toToken(row) : null;
  }

  async getTokenByHash(hash: string): Promise<TokenRecord | null> {
    const row = await this.driver.get('SELECT * FROM api_tokens WHERE hash = ?', [hash]);
    return row ? toToken(row) : null;
  }

  async listTokens(filter: TokenFilter): Promise<TokenRecord[]> {
    const where: string[] = [];
    const params: SqlParam[] = [];
    if (filter.projectId !== undefined) {
      where.push('project_id = ?');
      params.push(filter.projectId);
    }
    if (filter.createdBy !== undefined) {
      where.push('created_by = ?');
      params.push(filter.createdBy);
    }
    const rows = await this.driver.all(`SELECT * FROM api_tokens ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC`, params);
    return rows.map(toToken);
  }

  async revokeToken(id: string, at: number): Promise<boolean> {
    return this.write([{ sql: 'UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?', params: [at, id] }], ([r]) => r!.changes > 0);
  }

  async touchToken(id: string, at: number): Promise<void> {
    return this.write([{ sql: 'UPDATE api_tokens SET last_used_at = ? WHERE id = ?', params: [at, id] }], () => undefined);
  }

  // Projects and members -------------------------------------------------------------------------------------------

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
    const sets: string[] = [];
    const params: SqlParam[] = [];
    for (const [field, column] of Object.entries(columns)) {
      const value = update[field as keyof typeof columns];
      if (value === undefined) continue;
      sets.push(`${column} = ?`);
      params.push(value);
    }
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

  // Audit log ------------------------------------------------------------------------------------------------------

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

function insertUserStatement(u: UserRecord, source = 'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'): SqlStatement {
  return {
    sql: `INSERT INTO users (id, username, name, password_hash, instance_role, disabled, failed_logins, created_at, updated_at) ${source}`,
    params: [u.id, u.username, u.name, u.passwordHash, u.instanceRole, u.disabled ? 1 : 0, u.failedLogins, u.createdAt, u.updatedAt],
  };
}

// Row mapping ------------------------------------------------------------------------------------------------------

function toUser(row: Row): UserRecord {
  return {
    id: String(row.id),
    username: String(row.username),
    name: String(row.name),
    passwordHash: strOrNull(row.password_hash),
    instanceRole: String(row.instance_role) as InstanceRole,
    disabled: num(row.disabled) !== 0,
    failedLogins: num(row.failed_logins),
    lastFailedAt: numOrNull(row.last_failed_at),
    lockedUntil: numOrNull(row.locked_until),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
    lastLoginAt: numOrNull(row.last_login_at),
  };
}

function toToken(row: Row): TokenRecord {
  return {
    id: String(row.id),
    name: String(row.name),
    hash: String(row.hash),
    prefix: String(row.prefix),
    projectId: String(row.project_id),
    permissions: JSON.parse(String(row.permissions)) as string[],
    createdBy: String(row.created_by),
    createdAt: num(row.created_at),
    expiresAt: numOrNull(row.expires_at),
    revokedAt: numOrNull(row.revoked_at),
    lastUsedAt: numOrNull(row.last_used_at),
  };
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
