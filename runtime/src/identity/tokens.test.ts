import { afterEach, describe, expect, it } from 'vitest';
import { ProblemError } from '../errors.ts';
import type { Actor } from './actor.ts';
import { hashSecret } from './tokens.ts';
import { auditEntries, openTestIdentity, type OpenedIdentity } from './testing.ts';

let opened: OpenedIdentity | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

const admin: Actor = { kind: 'user', id: 'admin-1', name: 'ada', instanceRole: 'admin', projects: {}, via: 'session' };

async function problem(p: Promise<unknown>): Promise<ProblemError> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProblemError);
  return error as ProblemError;
}

describe('API tokens', () => {
  it('secret: fct_ + 256 random bits, shown once; only its SHA-256 and a short prefix are stored', async () => {
    opened = await openTestIdentity();
    const { identity, storage } = opened;
    const { secret, token } = await identity.tokens.create(admin, { name: 'deploy bot', projectId: 'default', permissions: ['flow:read', 'flow:deploy', 'flow:read'] });
    expect(secret).toMatch(/^fct_[A-Za-z0-9_-]{43}$/);
    expect(token).toMatchObject({ name: 'deploy bot', projectId: 'default', permissions: ['flow:read', 'flow:deploy'], createdBy: 'admin-1', revokedAt: null, lastUsedAt: null });
    expect(secret.startsWith(token.prefix)).toBe(true);
    expect(token.prefix.length).toBeLessThan(12);
    const record = await storage.identity.getToken(token.id);
    expect(record!.hash).toBe(hashSecret(secret));
    expect(JSON.stringify(record)).not.toContain(secret.slice(12));
    expect(JSON.stringify(await identity.tokens.list())).not.toContain(secret.slice(12));
    const [entry] = await auditEntries(identity, { action: 'token.create' });
    expect(entry).toMatchObject({ actor: { id: 'admin-1' }, targetId: token.id, projectId: 'default' });
    expect(JSON.stringify(entry)).not.toContain(secret.slice(12));
  });

  it('expires after the configured default (90 days), or when asked, or never (null)', async () => {
    opened = await openTestIdentity();
    const before = Date.now();
    const byDefault = await opened.identity.tokens.create(admin, { name: 'a', projectId: 'default', permissions: ['flow:read'] });
    expect(byDefault.token.expiresAt! - before).toBeGreaterThanOrEqual(90 * 86_400_000);
    const never = await opened.identity.tokens.create(admin, { name: 'b', projectId: 'default', permissions: ['flow:read'], expiresAt: null });
    expect(never.token.expiresAt).toBeNull();
    expect((await problem(opened.identity.tokens.create(admin, { name: 'c', projectId: 'default', permissions: ['flow:read'], expiresAt: Date.now() - 1 }))).issues[0]!.pointer).toBe('/expiresAt');
  });

  it('bad input: unknown project 404, bad or instance-wide permissions 422 (with pointers), empty name 422', async () => {
    opened = await openTestIdentity();
    const t = opened.identity.tokens;
    expect((await problem(t.create(admin, { name: 'x', projectId: 'nope', permissions: ['flow:read'] }))).status).toBe(404);
    expect((await problem(t.create(admin, { name: 'x', projectId: 'default', permissions: ['flow:read', 'flow:fly' as never] }))).issues[0]!.pointer).toBe('/permissions/1');
    expect((await problem(t.create(admin, { name: 'x', projectId: 'default', permissions: ['user:manage'] }))).issues[0]!.message).toMatch(/instance-wide/);
    expect((await problem(t.create(admin, { name: 'x', projectId: 'default', permissions: [] }))).status).toBe(422);
    expect((await problem(t.create(admin, { name: ' ', projectId: 'default', permissions: ['flow:read'] }))).issues[0]!.pointer).toBe('/name');
  });

  it('an API token cannot mint API tokens', async () => {
    opened = await openTestIdentity();
    const tokenActor: Actor = { kind: 'token', id: 't', name: 't', instanceRole: 'member', projects: { default: 'owner' }, via: 'token' };
    expect((await problem(opened.identity.tokens.create(tokenActor, { name: 'x', projectId: 'default', permissions: ['flow:read'] }))).status).toBe(403);
  });

  it('revoke: immediate, idempotent, audited; 404 for an unknown token; list filters by project', async () => {
    opened = await openTestIdentity();
    const t = opened.identity.tokens;
    await opened.identity.projects.create(admin, { id: 'p2', name: 'P2' });
    const a = await t.create(admin, { name: 'a', projectId: 'default', permissions: ['flow:read'] });
    await t.create(admin, { name: 'b', projectId: 'p2', permissions: ['flow:read'] });
    const revoked = await t.revoke(admin, a.token.id);
    expect(revoked.revokedAt).toBeGreaterThan(0);
    expect((await t.revoke(admin, a.token.id)).revokedAt).toBe(revoked.revokedAt);
    expect(await t.resolve(a.secret)).toBe('revoked');
    expect((await problem(t.revoke(admin, 'nope'))).status).toBe(404);
    expect((await t.list({ projectId: 'p2' })).map((x) => x.name)).toEqual(['b']);
    expect((await auditEntries(opened.identity, { action: 'token.revoke' })).length).toBe(2);
  });

  it('resolve: malformed, unknown, expired; last use recorded at most once a minute', async () => {
    opened = await openTestIdentity();
    const t = opened.identity.tokens;
    expect(await t.resolve('fct_short')).toBe('malformed');
    expect(await t.resolve(`fct_${'A'.repeat(43)}`)).toBe('unknown');
    const { secret, token } = await t.create(admin, { name: 'a', projectId: 'default', permissions: ['flow:read'], expiresAt: Date.now() + 60_000 });
    expect(await t.resolve(secret, Date.now() + 61_000)).toBe('expired');
    const record = await t.resolve(secret);
    if (typeof record === 'string') throw new Error(record);
    t.noteUse(record, 5_000_000);
    t.noteUse(record, 5_000_500);
    await new Promise((r) => setTimeout(r, 20));
    expect((await t.get(token.id))!.lastUsedAt).toBe(5_000_000);
  });
});
