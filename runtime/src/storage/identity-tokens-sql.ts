/** API tokens in SQL (identity-sql.ts composes the IdentityStore from this and its siblings). */
import type { TokenFilter, TokenRecord } from './identity-types.ts';
import { num, numOrNull } from './row-values.ts';
import type { Row, SqlDriver, SqlParam, SqlWriter } from './sql-driver.ts';

export class SqlTokenStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly write: SqlWriter,
  ) {}

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
