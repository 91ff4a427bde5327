import { afterEach, describe, expect, it } from 'vitest';
import { Lockout } from './lockout.ts';
import { openTestIdentity, testConfig, type OpenedIdentity } from './testing.ts';
import { makeUser } from '../storage/identity.suite.ts';

let opened: OpenedIdentity | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

async function setup(auth: Parameters<typeof testConfig>[0] = {}) {
  opened = await openTestIdentity(testConfig({ lockoutAttempts: 3, lockoutIpAttempts: 5, lockoutWindowMs: 60_000, lockoutMs: 30_000, ...auth }));
  const store = opened.storage.identity;
  const user = makeUser({ username: 'ada' });
  await store.insertUser(user);
  return { lockout: new Lockout(store, opened.config.auth), store, user };
}

describe('lock-out', () => {
  it('locks an account at the limit (stored: survives a restart), and only from then', async () => {
    const { lockout, store, user } = await setup();
    const now = 1_000_000;
    for (let i = 0; i < 2; i++) expect((await lockout.noteFailure('ada', await store.getUser(user.id), '10.0.0.1', now + i)).account).toBeNull();
    expect((await lockout.noteFailure('ada', await store.getUser(user.id), '10.0.0.2', now + 2)).account).toBe(now + 2 + 30_000);
    const locked = await store.getUser(user.id);
    expect(lockout.accountLockedUntil('ada', locked, now + 3)).toBe(now + 30_002);
    expect(lockout.accountLockedUntil('ada', locked, now + 30_003)).toBeNull();
    // A fresh Lockout (another process, a restart) sees the same lock.
    expect(new Lockout(store, opened!.config.auth).accountLockedUntil('ada', locked, now + 3)).toBe(now + 30_002);
  });

  it('an unknown username locks the same way (a lock does not reveal whether the account exists)', async () => {
    const { lockout } = await setup();
    const now = 2_000_000;
    await lockout.noteFailure('ghost', null, undefined, now);
    await lockout.noteFailure('ghost', null, undefined, now + 1);
    expect((await lockout.noteFailure('ghost', null, undefined, now + 2)).account).toBe(now + 30_002);
    expect(lockout.accountLockedUntil('ghost', null, now + 10)).toBe(now + 30_002);
    expect(lockout.accountLockedUntil('other', null, now + 10)).toBeNull();
  });

  it('locks an IP that fails across many accounts', async () => {
    const { lockout } = await setup();
    const now = Date.now();
    for (let i = 0; i < 4; i++) expect((await lockout.noteFailure(`name${i}`, null, '192.0.2.7', now)).ip).toBeNull();
    expect((await lockout.noteFailure('name5', null, '192.0.2.7', now)).ip).toBe(now + 30_000);
    expect(lockout.ipLockedUntil('192.0.2.7', now + 1)).toBe(now + 30_000);
    expect(lockout.ipLockedUntil('192.0.2.8', now + 1)).toBeNull();
  });

  it('success clears the account count; failures outside the window are forgotten', async () => {
    const { lockout, store, user } = await setup();
    const now = 3_000_000;
    await lockout.noteFailure('ada', await store.getUser(user.id), undefined, now);
    await lockout.noteFailure('ada', await store.getUser(user.id), undefined, now + 1);
    await lockout.noteSuccess((await store.getUser(user.id))!);
    expect((await store.getUser(user.id))!.failedLogins).toBe(0);
    await lockout.noteFailure('ada', await store.getUser(user.id), undefined, now + 2);
    await lockout.noteFailure('ada', await store.getUser(user.id), undefined, now + 3);
    // The third failure comes after the window: the count restarts instead of locking.
    expect((await lockout.noteFailure('ada', await store.getUser(user.id), undefined, now + 70_000)).account).toBeNull();
  });

  it('0 attempts turns account lock-out off', async () => {
    const { lockout, store, user } = await setup({ lockoutAttempts: 0, lockoutIpAttempts: 0 });
    for (let i = 0; i < 10; i++) await lockout.noteFailure('ada', await store.getUser(user.id), '10.9.9.9');
    expect(lockout.accountLockedUntil('ada', await store.getUser(user.id))).toBeNull();
    expect(lockout.ipLockedUntil('10.9.9.9')).toBeNull();
  });
});
