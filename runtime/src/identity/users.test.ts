import { afterEach, describe, expect, it } from 'vitest';
import { ProblemError } from '../errors.ts';
import { SYSTEM_ACTOR } from './actor.ts';
import { auditEntries, openTestIdentity, type OpenedIdentity } from './testing.ts';

let opened: OpenedIdentity | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

async function problem(p: Promise<unknown>): Promise<ProblemError> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProblemError);
  return error as ProblemError;
}

describe('users', () => {
  it('the first admin created (e.g. by the CLI) owns the default project; later users do not', async () => {
    opened = await openTestIdentity();
    const users = opened.identity.users;
    const first = await users.create(SYSTEM_ACTOR, { username: 'root', password: 'a long passphrase', instanceRole: 'admin' });
    const second = await users.create(SYSTEM_ACTOR, { username: 'op', password: 'a long passphrase', instanceRole: 'admin' });
    expect(first.projects).toEqual({ default: 'owner' });
    expect(second.projects).toEqual({});
    expect((await users.findByUsername('ROOT'))!.id).toBe(first.id);
  });

  it('bad input: username shape, taken username (409), weak password, unknown role: with pointers', async () => {
    opened = await openTestIdentity();
    const users = opened.identity.users;
    await users.create(SYSTEM_ACTOR, { username: 'ada', password: 'a long passphrase' });
    expect((await problem(users.create(SYSTEM_ACTOR, { username: 'has space', password: 'a long passphrase' }))).issues[0]!.pointer).toBe('/username');
    expect((await problem(users.create(SYSTEM_ACTOR, { username: '', password: 'a long passphrase' }))).status).toBe(422);
    expect((await problem(users.create(SYSTEM_ACTOR, { username: 'Ada', password: 'a long passphrase' }))).status).toBe(409);
    expect((await problem(users.create(SYSTEM_ACTOR, { username: 'bob', password: 'short' }))).issues[0]!.pointer).toBe('/password');
    expect((await problem(users.create(SYSTEM_ACTOR, { username: 'bob', instanceRole: 'root' as never }))).issues[0]!.pointer).toBe('/instanceRole');
    expect((await problem(users.create(SYSTEM_ACTOR, { username: 'bob', name: '' }))).issues[0]!.pointer).toBe('/name');
    expect((await users.list()).map((u) => u.username)).toEqual(['ada']); // nothing half-written
  });

  it('update: name, role, disable, password reset; audited without secrets; 404 unknown', async () => {
    opened = await openTestIdentity();
    const users = opened.identity.users;
    await users.create(SYSTEM_ACTOR, { username: 'root', password: 'a long passphrase', instanceRole: 'admin' });
    const bob = await users.create(SYSTEM_ACTOR, { username: 'bob', password: 'a long passphrase' });
    const updated = await users.update(SYSTEM_ACTOR, bob.id, { name: 'Bob B.', instanceRole: 'admin', disabled: true, password: 'another passphrase' });
    expect(updated).toMatchObject({ name: 'Bob B.', instanceRole: 'admin', disabled: true });
    expect(updated.updatedAt).toBeGreaterThanOrEqual(bob.updatedAt);
    const [entry] = await auditEntries(opened.identity, { action: 'user.update' });
    expect(entry!.detail).toEqual({ name: 'Bob B.', instanceRole: 'admin', disabled: true, password: 'reset' });
    expect(JSON.stringify(entry)).not.toContain('another passphrase');
    expect((await problem(users.update(SYSTEM_ACTOR, 'nobody', { name: 'x' }))).status).toBe(404);
  });

  it('the last enabled admin cannot be demoted, disabled or deleted (409)', async () => {
    opened = await openTestIdentity();
    const users = opened.identity.users;
    const root = await users.create(SYSTEM_ACTOR, { username: 'root', password: 'a long passphrase', instanceRole: 'admin' });
    expect((await problem(users.update(SYSTEM_ACTOR, root.id, { instanceRole: 'member' }))).status).toBe(409);
    expect((await problem(users.update(SYSTEM_ACTOR, root.id, { disabled: true }))).status).toBe(409);
    expect((await problem(users.delete(SYSTEM_ACTOR, root.id))).status).toBe(409);
    const other = await users.create(SYSTEM_ACTOR, { username: 'other', password: 'a long passphrase', instanceRole: 'admin' });
    await users.update(SYSTEM_ACTOR, root.id, { instanceRole: 'member' });
    await users.delete(SYSTEM_ACTOR, root.id);
    expect((await users.list()).map((u) => u.id)).toEqual([other.id]);
    expect((await auditEntries(opened.identity, { action: 'user.delete' }))[0]!.detail).toEqual({ username: 'root' });
  });
});
