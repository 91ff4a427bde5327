/**
 * The identity tables in SQL, for SQLite and PostgreSQL (same `?` SQL as sql-storage.ts): the IdentityStore over a
 * SqlDriver, composed of users and sessions (identity-users-sql.ts), API tokens (identity-tokens-sql.ts), projects,
 * members and the audit log (identity-projects-sql.ts). Migration 6's schema is in identity-migration.ts. Writes go
 * through the storage's group-commit writer like every other write.
 */
import type { IdentityStore } from './identity-types.ts';
import { SqlProjectStore } from './identity-projects-sql.ts';
import { SqlTokenStore } from './identity-tokens-sql.ts';
import { SqlUserStore } from './identity-users-sql.ts';
import type { SqlDriver, SqlWriter } from './sql-driver.ts';

export { identityMigration } from './identity-migration.ts';

export class SqlIdentityStore implements IdentityStore {
  private readonly users: SqlUserStore;
  private readonly tokens: SqlTokenStore;
  private readonly projects: SqlProjectStore;

  constructor(driver: SqlDriver, write: SqlWriter) {
    this.users = new SqlUserStore(driver, write);
    this.tokens = new SqlTokenStore(driver, write);
    this.projects = new SqlProjectStore(driver, write);
  }

  // ---- users ----
  countUsers(...a: Parameters<SqlUserStore['countUsers']>) { return this.users.countUsers(...a); }
  listUsers(...a: Parameters<SqlUserStore['listUsers']>) { return this.users.listUsers(...a); }
  getUser(...a: Parameters<SqlUserStore['getUser']>) { return this.users.getUser(...a); }
  getUserByUsername(...a: Parameters<SqlUserStore['getUserByUsername']>) { return this.users.getUserByUsername(...a); }
  insertUser(...a: Parameters<SqlUserStore['insertUser']>) { return this.users.insertUser(...a); }
  insertFirstUser(...a: Parameters<SqlUserStore['insertFirstUser']>) { return this.users.insertFirstUser(...a); }
  updateUser(...a: Parameters<SqlUserStore['updateUser']>) { return this.users.updateUser(...a); }
  deleteUser(...a: Parameters<SqlUserStore['deleteUser']>) { return this.users.deleteUser(...a); }
  noteLoginFailure(...a: Parameters<SqlUserStore['noteLoginFailure']>) { return this.users.noteLoginFailure(...a); }
  insertSession(...a: Parameters<SqlUserStore['insertSession']>) { return this.users.insertSession(...a); }
  getSession(...a: Parameters<SqlUserStore['getSession']>) { return this.users.getSession(...a); }
  touchSession(...a: Parameters<SqlUserStore['touchSession']>) { return this.users.touchSession(...a); }
  deleteSession(...a: Parameters<SqlUserStore['deleteSession']>) { return this.users.deleteSession(...a); }
  deleteUserSessions(...a: Parameters<SqlUserStore['deleteUserSessions']>) { return this.users.deleteUserSessions(...a); }
  pruneSessions(...a: Parameters<SqlUserStore['pruneSessions']>) { return this.users.pruneSessions(...a); }

  // ---- tokens ----
  insertToken(...a: Parameters<SqlTokenStore['insertToken']>) { return this.tokens.insertToken(...a); }
  getToken(...a: Parameters<SqlTokenStore['getToken']>) { return this.tokens.getToken(...a); }
  getTokenByHash(...a: Parameters<SqlTokenStore['getTokenByHash']>) { return this.tokens.getTokenByHash(...a); }
  listTokens(...a: Parameters<SqlTokenStore['listTokens']>) { return this.tokens.listTokens(...a); }
  revokeToken(...a: Parameters<SqlTokenStore['revokeToken']>) { return this.tokens.revokeToken(...a); }
  touchToken(...a: Parameters<SqlTokenStore['touchToken']>) { return this.tokens.touchToken(...a); }

  // ---- projects ----
  listProjects(...a: Parameters<SqlProjectStore['listProjects']>) { return this.projects.listProjects(...a); }
  getProject(...a: Parameters<SqlProjectStore['getProject']>) { return this.projects.getProject(...a); }
  insertProject(...a: Parameters<SqlProjectStore['insertProject']>) { return this.projects.insertProject(...a); }
  updateProject(...a: Parameters<SqlProjectStore['updateProject']>) { return this.projects.updateProject(...a); }
  deleteProject(...a: Parameters<SqlProjectStore['deleteProject']>) { return this.projects.deleteProject(...a); }
  listMembers(...a: Parameters<SqlProjectStore['listMembers']>) { return this.projects.listMembers(...a); }
  listMemberships(...a: Parameters<SqlProjectStore['listMemberships']>) { return this.projects.listMemberships(...a); }
  setMember(...a: Parameters<SqlProjectStore['setMember']>) { return this.projects.setMember(...a); }
  removeMember(...a: Parameters<SqlProjectStore['removeMember']>) { return this.projects.removeMember(...a); }
  appendAudit(...a: Parameters<SqlProjectStore['appendAudit']>) { return this.projects.appendAudit(...a); }
  queryAudit(...a: Parameters<SqlProjectStore['queryAudit']>) { return this.projects.queryAudit(...a); }
}
