/** Users and their browser sessions in SQL (identity-sql.ts composes the IdentityStore from this and its siblings). */
import type { InstanceRole } from '../identity/actor.ts';
import type { SessionRecord, UserRecord, UserUpdate } from './identity-types.ts';
import { assignments, num, numOrNull, strOrNull } from './row-values.ts';
import type { Row, SqlDriver, SqlParam, SqlStatement, SqlWriter } from './sql-driver.ts';

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

export class SqlUserStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly write: SqlWriter,
  ) {}

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
    const { sets, params } = assignments(update, USER_COLUMNS);
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


  // Sessions ---------------------------------------------------------------------------------------------------

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
}

function insertUserStatement(u: UserRecord, source = 'VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'): SqlStatement {
  return {
    sql: `INSERT INTO users (id, username, name, password_hash, instance_role, disabled, failed_logins, created_at, updated_at) ${source}`,
    params: [u.id, u.username, u.name, u.passwordHash, u.instanceRole, u.disabled ? 1 : 0, u.failedLogins, u.createdAt, u.updatedAt],
  };
}

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
