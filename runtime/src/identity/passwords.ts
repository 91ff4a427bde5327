/**
 * Password hashing: argon2id via @node-rs/argon2 (prebuilt binary in the npm package, runs off the event loop).
 * Parameters follow the OWASP Password Storage Cheat Sheet's first argon2id option (19 MiB, 2 passes, 1 lane):
 * ~20-40 ms per hash here, which bounds a brute force without letting a burst of sign-ins starve the host.
 */
import { hash, parseOptions, verify, type Algorithm, type Options } from '@node-rs/argon2';
import { ProblemError } from '../errors.ts';

const ARGON2ID = 2 as Algorithm.Argon2id; // a const enum: not importable as a value under isolatedModules

export const PASSWORD_OPTIONS: Readonly<Options> = Object.freeze({ algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 });

export const PASSWORD_MIN_LENGTH = 10;
/** argon2 accepts any length, but a megabyte "password" is a denial-of-service attempt, not a password. */
export const PASSWORD_MAX_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PASSWORD_OPTIONS);
}

/** False for a wrong password and for a hash that is not argon2 (never throws on bad stored data). */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** A hash made with weaker (older) parameters than today's: re-hash it at the next successful sign-in. */
export function needsRehash(stored: string): boolean {
  try {
    const p = parseOptions(stored);
    return (
      p.algorithm !== ARGON2ID ||
      p.memoryCost < PASSWORD_OPTIONS.memoryCost! ||
      p.timeCost < PASSWORD_OPTIONS.timeCost! ||
      p.parallelism !== PASSWORD_OPTIONS.parallelism
    );
  } catch {
    return true;
  }
}

let dummy: Promise<string> | undefined;
/**
 * Verify against a throwaway hash: a sign-in for an unknown user then costs the same time as for a known one,
 * so response timing does not reveal which usernames exist.
 */
export async function burnVerifyTime(password: string): Promise<void> {
  dummy ??= hashPassword('flowcrew-timing-equaliser');
  await verifyPassword(await dummy, password);
}

/** Refuses a new password that is too short, too long or the username itself (422, with a JSON pointer). */
export function checkPasswordPolicy(password: unknown, username: string, pointer = '/password'): string {
  const fail = (message: string) => new ProblemError(422, 'Invalid password', message, [{ pointer, message }]);
  if (typeof password !== 'string') throw fail('The password must be a string.');
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) throw fail(`The password must be at least ${PASSWORD_MIN_LENGTH} characters long.`);
  if (length > PASSWORD_MAX_LENGTH) throw fail(`The password must be at most ${PASSWORD_MAX_LENGTH} characters long.`);
  if (password.trim().toLowerCase() === username.trim().toLowerCase()) throw fail('The password must not be the username.');
  return password;
}
