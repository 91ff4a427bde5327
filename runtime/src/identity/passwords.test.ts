import { hash, parseOptions } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';
import { ProblemError } from '../errors.ts';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH, burnVerifyTime, checkPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './passwords.ts';

describe('passwords (argon2id)', () => {
  it('hashes with argon2id at the OWASP parameters, a fresh salt each time, and verifies', async () => {
    const a = await hashPassword('correct horse battery');
    const b = await hashPassword('correct horse battery');
    expect(a).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(a).not.toBe(b);
    expect(parseOptions(a)).toMatchObject({ memoryCost: 19456, timeCost: 2, parallelism: 1 });
    expect(await verifyPassword(a, 'correct horse battery')).toBe(true);
    expect(await verifyPassword(a, 'correct horse batterY')).toBe(false);
  });

  it('a malformed stored hash is a failed verification, never a crash', async () => {
    expect(await verifyPassword('not-a-hash', 'x')).toBe(false);
    expect(await verifyPassword('', 'x')).toBe(false);
  });

  it('flags hashes made with weaker parameters or another algorithm for re-hashing', async () => {
    expect(needsRehash(await hashPassword('0123456789'))).toBe(false);
    expect(needsRehash(await hash('0123456789', { memoryCost: 4096, timeCost: 1 }))).toBe(true);
    expect(needsRehash('$2b$10$abcdefghijklmnopqrstuv')).toBe(true);
  });

  it('an unknown user costs a real verification (timing does not reveal which usernames exist)', async () => {
    const started = performance.now();
    await burnVerifyTime('whatever');
    expect(performance.now() - started).toBeGreaterThan(1);
  });

  it('policy: too short, too long, the username itself, not a string: 422 with a pointer', () => {
    const issue = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(ProblemError);
        expect((error as ProblemError).status).toBe(422);
        return (error as ProblemError).issues[0];
      }
      throw new Error('accepted');
    };
    expect(issue(() => checkPasswordPolicy('short', 'ada'))).toEqual({ pointer: '/password', message: `The password must be at least ${PASSWORD_MIN_LENGTH} characters long.` });
    expect(issue(() => checkPasswordPolicy('x'.repeat(PASSWORD_MAX_LENGTH + 1), 'ada'))?.message).toMatch(/at most/);
    expect(issue(() => checkPasswordPolicy('AdaLovelace', 'adalovelace', '/newPassword'))).toEqual({ pointer: '/newPassword', message: 'The password must not be the username.' });
    expect(issue(() => checkPasswordPolicy(12345678901, 'ada'))?.message).toMatch(/string/);
    expect(checkPasswordPolicy('ten chars!', 'ada')).toBe('ten chars!');
    // Length counts characters, not UTF-16 units.
    expect(issue(() => checkPasswordPolicy('🔑'.repeat(5), 'ada'))?.message).toMatch(/at least/);
  });
});
