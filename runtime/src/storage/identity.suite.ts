/**
 * The identity storage contract (users, sessions, API tokens, projects, members, audit log, project columns), run
 * against every dialect by identity-storage.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { flowDoc, makeRun } from './fixtures.ts';
import { ProjectNotEmptyError, type AuditRecord, type TokenRecord, type UserRecord } from './identity-types.ts';
import type { SqlStorage } from './sql-storage.ts';

export interface IdentitySuiteTarget {
  open(): Promise<SqlStorage>;
}

let n = 0;
export function makeUser(overrides: Partial<UserRecord> = {}): UserRecord {
  n++;
  return {
    id: `u${n}-${Math.random().toString(36).slice(2, 8)}`,
    username: `user${n}`,
    name: `User ${n}`,
    passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA',
    instanceRole: 'member',
    disabled: false,
    failedLogins: 0,
    lastFailedAt: null,
    lockedUntil: null,
    createdAt: 1000,
    updatedAt: 1000,
    lastLoginAt: null,
    ...overrides,
  };
}

function makeToken(overrides: Partial<TokenRecord> = {}): TokenRecord {
  n++;
  return {
    id: `t${n}`,
    name: `token ${n}`,
    hash: `hash${n}`,
    prefix: 'fct_abcdef',
    projectId: 'default',
    permissions: ['flow:read'],
    createdBy: 'u1',
    createdAt: 1000 + n,
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    ...overrides,
  };
}

function audit(id: string, overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    id,
    at: 1000,
    actorKind: 'user',
    actorId: 'u1',
    actorName: 'ada',
    via: 'session',
    action: 'auth.login',
    outcome: 'success',
    targetType: null,
    targetId: null,
    projectId: null,
    ip: '127.0.0.1',
    detail: null,
    ...overrides,
  };
}

export function defineIdentityStorageSuite(name: string, target: IdentitySuiteTarget): void {
  const withStorage = (fn: (s: SqlStorage) => Promise<void>) => async () => {
    const s = await target.open();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  describe(`Identity storage: ${name}`, () => {
    it('the migration creates the default project', withStorage(async (s) => {
      const projects = await s.identity.listProjects();
      expect(projects.map((p) => p.id)).toEqual(['default']);
    }));

    it('users: insert, unique username, update, first user only once (owner of default), delete cascades', withStorage(async (s) => {
      const id = s.identity;
      const first = makeUser({ instanceRole: 'admin', username: 'ada' });
      expect(await id.insertFirstUser(first, 'default')).toBe(true);
      expect(await id.insertFirstUser(makeUser({ instanceRole: 'admin' }), 'default')).toBe(false);
      expect(await id.countUsers()).toBe(1);
      expect(await id.listMemberships(first.id)).toEqual([{ projectId: 'default', userId: first.id, role: 'owner', addedAt: 1000 }]);
      expect(await id.getUserByUsername('ada')).toEqual(first);

      await expect(id.insertUser(makeUser({ username: 'ada' }))).rejects.toThrow();
      const bob = makeUser({ username: 'bob' });
      await id.insertUser(bob);
      expect(await id.updateUser(bob.id, { name: 'Bobby', disabled: true, instanceRole: 'admin', updatedAt: 2000 })).toBe(true);
      expect(await id.getUser(bob.id)).toMatchObject({ name: 'Bobby', disabled: true, instanceRole: 'admin', updatedAt: 2000 });
      expect(await id.updateUser('nobody', { name: 'x' })).toBe(false);
      expect((await id.listUsers()).map((u) => u.username)).toEqual(['ada', 'bob']);

      await id.insertSession({ idHash: 'h1', userId: bob.id, createdAt: 1, expiresAt: 10_000, lastSeenAt: 1, ip: null, userAgent: null });
      await id.insertToken(makeToken({ createdBy: bob.id, hash: 'bobtoken' }));
      await id.setMember({ projectId: 'default', userId: bob.id, role: 'viewer', addedAt: 5 });
      expect(await id.deleteUser(bob.id)).toBe(true);
      expect(await id.getSession('h1')).toBeNull();
      expect(await id.getTokenByHash('bobtoken')).toBeNull();
      expect(await id.listMembers('default')).toEqual([{ projectId: 'default', userId: first.id, role: 'owner', addedAt: 1000 }]);
      expect(await id.deleteUser(bob.id)).toBe(false);
    }));

    it('concurrent first-user inserts: exactly one wins', withStorage(async (s) => {
      const results = await Promise.all([1, 2, 3, 4].map(() => s.identity.insertFirstUser(makeUser({ instanceRole: 'admin' }), 'default')));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await s.identity.countUsers()).toBe(1);
      expect(await s.identity.listMembers('default')).toHaveLength(1);
    }));

    it('login failures: counted atomically within the window, lock at the limit, forgotten after the window', withStorage(async (s) => {
      const u = makeUser();
      await s.identity.insertUser(u);
      const fail = (at: number) => s.identity.noteLoginFailure(u.id, at, at - 100, 3, at + 500);
      const counts = await Promise.all([fail(1000), fail(1000)]);
      expect(counts.map((c) => c!.failedLogins).sort()).toEqual([1, 2]);
      expect(await fail(1001)).toEqual({ failedLogins: 3, lockedUntil: 1501 });
      expect(await fail(1300)).toEqual({ failedLogins: 1, lockedUntil: 1501 }); // older failures forgotten
      expect(await s.identity.noteLoginFailure('nobody', 1, 0, 3, 2)).toBeNull();
    }));

    it('sessions: get, touch, delete one, delete all of a user but one, prune expired', withStorage(async (s) => {
      const id = s.identity;
      const base = { userId: 'u1', createdAt: 1, lastSeenAt: 1, ip: '::1', userAgent: 'test' };
      await id.insertSession({ ...base, idHash: 'a', expiresAt: 100 });
      await id.insertSession({ ...base, idHash: 'b', expiresAt: 5000 });
      await id.insertSession({ ...base, idHash: 'c', expiresAt: 5000 });
      await id.insertSession({ ...base, userId: 'u2', idHash: 'd', expiresAt: 5000 });
      await id.touchSession('b', 42);
      expect(await id.getSession('b')).toEqual({ ...base, idHash: 'b', expiresAt: 5000, lastSeenAt: 42 });
      expect(await id.pruneSessions(100)).toBe(1);
      expect(await id.deleteUserSessions('u1', 'c')).toBe(1);
      expect(await id.getSession('c')).not.toBeNull();
      expect(await id.deleteSession('c')).toBe(true);
      expect(await id.deleteSession('c')).toBe(false);
      expect(await id.getSession('d')).not.toBeNull();
    }));

    it('API tokens: by hash, list by project/creator, revoke keeps the first time, touch', withStorage(async (s) => {
      const id = s.identity;
      await id.insertProject({ id: 'p2', name: 'P2', description: '', createdAt: 1, updatedAt: 1 });
      const a = makeToken({ hash: 'ha', permissions: ['flow:read', 'run:start'] });
      const b = makeToken({ hash: 'hb', projectId: 'p2', createdBy: 'u2', expiresAt: 9999 });
      await id.insertToken(a);
      await id.insertToken(b);
      expect(await id.getTokenByHash('ha')).toEqual(a);
      expect(await id.getToken(b.id)).toEqual(b);
      expect((await id.listTokens({})).map((t) => t.id)).toEqual([b.id, a.id]);
      expect((await id.listTokens({ projectId: 'p2' })).map((t) => t.id)).toEqual([b.id]);
      expect((await id.listTokens({ createdBy: 'u1' })).map((t) => t.id)).toEqual([a.id]);
      expect(await id.revokeToken(a.id, 50)).toBe(true);
      expect(await id.revokeToken(a.id, 60)).toBe(true);
      expect((await id.getToken(a.id))!.revokedAt).toBe(50);
      expect(await id.revokeToken('nope', 1)).toBe(false);
      await id.touchToken(b.id, 77);
      expect((await id.getToken(b.id))!.lastUsedAt).toBe(77);
      await expect(id.insertToken(makeToken({ hash: 'ha' }))).rejects.toThrow(); // hashes are unique
    }));

    it('projects and members; a project with flows or credentials cannot be deleted', withStorage(async (s) => {
      const id = s.identity;
      expect(await id.insertProject({ id: 'ops', name: 'Ops', description: 'd', createdAt: 1, updatedAt: 1 })).toBe(true);
      expect(await id.insertProject({ id: 'ops', name: 'Again', description: '', createdAt: 1, updatedAt: 1 })).toBe(false);
      expect(await id.updateProject('ops', { name: 'Operations', updatedAt: 2 })).toBe(true);
      expect(await id.getProject('ops')).toEqual({ id: 'ops', name: 'Operations', description: 'd', createdAt: 1, updatedAt: 2 });
      await id.setMember({ projectId: 'ops', userId: 'u1', role: 'viewer', addedAt: 3 });
      await id.setMember({ projectId: 'ops', userId: 'u1', role: 'editor', addedAt: 99 });
      expect(await id.listMembers('ops')).toEqual([{ projectId: 'ops', userId: 'u1', role: 'editor', addedAt: 3 }]);

      await s.saveFlow(flowDoc('f-ops'), 0, { projectId: 'ops' });
      await expect(id.deleteProject('ops')).rejects.toBeInstanceOf(ProjectNotEmptyError);
      expect(await id.getProject('ops')).not.toBeNull();
      await s.deleteFlow('f-ops');
      await s.saveCredential({ id: 'c1', name: 'c', type: 't', data: 'x', createdAt: 1, updatedAt: 1, projectId: 'ops' });
      await expect(id.deleteProject('ops')).rejects.toThrow(/1 credential/);
      await s.deleteCredential('c1');
      await id.insertToken(makeToken({ hash: 'ops-token', projectId: 'ops' }));
      expect(await id.deleteProject('ops')).toBe(true);
      expect(await id.listMembers('ops')).toEqual([]);
      expect(await id.getTokenByHash('ops-token')).toBeNull();
      expect(await id.removeMember('ops', 'u1')).toBe(false);
    }));

    it('flows, credentials and runs carry a project; runs inherit their flow\'s; runs filter by project', withStorage(async (s) => {
      await s.identity.insertProject({ id: 'p2', name: 'P2', description: '', createdAt: 1, updatedAt: 1 });
      expect((await s.saveFlow(flowDoc('a'), 0, { projectId: 'p2' })).projectId).toBe('p2');
      expect((await s.saveFlow(flowDoc('b'))).projectId).toBe('default');
      // Saving again (any path) never moves a flow.
      expect((await s.saveFlow(flowDoc('a', { name: 'renamed' }), undefined, { projectId: 'default' })).projectId).toBe('p2');
      expect((await s.getFlow('a'))!.projectId).toBe('p2');
      const ra = makeRun({ flowId: 'a', projectId: undefined });
      const rb = makeRun({ flowId: 'b', projectId: undefined });
      const orphan = makeRun({ flowId: 'gone', projectId: undefined });
      await s.acceptRun(ra, []);
      await s.acceptRun(rb, []);
      await s.acceptRun(orphan, []);
      expect((await s.getRun(ra.id))!.projectId).toBe('p2');
      expect((await s.getRun(rb.id))!.projectId).toBe('default');
      expect((await s.getRun(orphan.id))!.projectId).toBe('default');
      expect((await s.listRuns({ projectIds: ['p2'] })).map((r) => r.id)).toEqual([ra.id]);
      expect(await s.listRuns({ projectIds: [] })).toEqual([]);
      expect(await s.listRuns({ projectIds: ['default', 'p2'] })).toHaveLength(3);
      await s.saveCredential({ id: 'c', name: 'c', type: 't', data: 'x', createdAt: 1, updatedAt: 1, projectId: 'p2' });
      await s.saveCredential({ id: 'c', name: 'c2', type: 't', data: 'y', createdAt: 1, updatedAt: 2, projectId: 'default' });
      expect((await s.getCredential('c'))!.projectId).toBe('p2');
    }));

    it('audit log: append, filter, keyset pages, prefix match; UPDATE and DELETE are refused, even in raw SQL', withStorage(async (s) => {
      const id = s.identity;
      const records = [
        audit('0001', { at: 1000 }),
        audit('0002', { at: 2000, action: 'auth.lockout', outcome: 'success', actorKind: 'anonymous', actorId: '', actorName: 'eve', via: 'none' }),
        audit('0003', { at: 3000, action: 'token.create', targetType: 'token', targetId: 't1', projectId: 'default', detail: '{"name":"ci"}' }),
        audit('0004', { at: 4000, action: 'auth.login', outcome: 'failure', actorId: '', actorKind: 'anonymous', ip: '10.0.0.9' }),
      ];
      await id.appendAudit(records.slice(0, 2));
      await id.appendAudit(records.slice(2));
      const ids = async (f: Parameters<typeof id.queryAudit>[0]) => (await id.queryAudit(f)).map((r) => r.id);
      expect(await ids({ limit: 10 })).toEqual(['0004', '0003', '0002', '0001']);
      expect(await id.queryAudit({ limit: 1, action: 'token.create' })).toEqual([records[2]]);
      expect(await ids({ limit: 10, actionPrefix: 'auth.' })).toEqual(['0004', '0002', '0001']);
      expect(await ids({ limit: 10, outcome: 'failure' })).toEqual(['0004']);
      expect(await ids({ limit: 10, actorId: 'u1' })).toEqual(['0003', '0001']);
      expect(await ids({ limit: 10, since: 2000, until: 4000 })).toEqual(['0003', '0002']);
      expect(await ids({ limit: 10, targetType: 'token', targetId: 't1', projectId: 'default' })).toEqual(['0003']);
      expect(await ids({ limit: 2 })).toEqual(['0004', '0003']);
      expect(await ids({ limit: 2, before: '0003' })).toEqual(['0002', '0001']);

      // Both dialects refuse with an error (a trigger).
      const attempt = (sql: string) => expect(s.driver.writeBatch([{ sql }])).rejects.toThrow(/append-only/);
      await attempt("UPDATE audit_log SET outcome = 'success' WHERE id = '0004'");
      await attempt("DELETE FROM audit_log WHERE id = '0001'");
      await attempt('DELETE FROM audit_log');
      expect(await id.queryAudit({ limit: 10 })).toEqual([...records].reverse());
    }));
  });
}
