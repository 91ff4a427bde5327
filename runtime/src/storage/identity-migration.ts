/** The identity tables' schema (migration 6), for SQLite and PostgreSQL. */
import type { SqlDialect } from './sql-driver.ts';

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
