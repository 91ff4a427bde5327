import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyRing, KeyRingError, keyFromSecret, keyId } from './keyring.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-keyring-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const open = (env: NodeJS.ProcessEnv = {}) => KeyRing.open({ dataDir: dir, env });
const ringFile = () => path.join(dir, 'keyring.json');

describe('key ring', () => {
  it('creates a 0600 key ring file with one key at first start, and reads the same key afterwards', async () => {
    const first = await open();
    const key = await first.current();
    expect(key.id).toBe(keyId(key.key));
    expect((await stat(ringFile())).mode & 0o777).toBe(0o600);
    const file = JSON.parse(await readFile(ringFile(), 'utf8'));
    expect(file).toMatchObject({ format: 'flowcrew-keyring/1', current: key.id, keys: [{ id: key.id }] });
    const again = await open();
    expect((await again.current()).key.equals(key.key)).toBe(true);
  });

  it('two processes starting at once end up with one key', async () => {
    const [a, b] = await Promise.all([open(), open()]);
    expect((await a.current()).id).toBe((await b.current()).id);
  });

  it('refuses a key file readable by others, saying how to fix it', async () => {
    await open();
    await chmod(ringFile(), 0o644);
    await expect(open()).rejects.toThrow(new KeyRingError(`key file ${ringFile()} has mode 644: it must be readable by its owner only (chmod 600 ${ringFile()})`));
  });

  it('refuses garbage in the key ring file, naming what is wrong with a JSON pointer', async () => {
    await writeFile(ringFile(), 'not json at all', { mode: 0o600 });
    await expect(open()).rejects.toThrow(/key ring file .*keyring\.json is not valid JSON/);
    await writeFile(ringFile(), JSON.stringify({ format: 'flowcrew-keyring/1', current: 'x', keys: [{ id: 'x', key: 'c2hvcnQ=', createdAt: 'now' }] }), { mode: 0o600 });
    await expect(open()).rejects.toThrow(/is not a Flowcrew key ring \(\/keys\/0\/key: must match pattern/);
    const key = randomBytes(32);
    await writeFile(ringFile(), JSON.stringify({ format: 'flowcrew-keyring/1', current: 'other', keys: [{ id: keyId(key), key: key.toString('base64'), createdAt: 'now' }] }), { mode: 0o600 });
    await expect(open()).rejects.toThrow(/\/current names key "other", which is not in \/keys/);
    await writeFile(ringFile(), JSON.stringify({ format: 'flowcrew-keyring/1', current: 'forged', keys: [{ id: 'forged', key: key.toString('base64'), createdAt: 'now' }] }), { mode: 0o600 });
    await expect(open()).rejects.toThrow(/\/keys\/0\/id does not match its key/);
  });

  it('reads the single-key file of earlier versions, and refuses one that holds garbage', async () => {
    const key = randomBytes(32);
    await writeFile(path.join(dir, 'secret.key'), key.toString('base64'), { mode: 0o600 });
    const ring = await open();
    expect(await ring.current()).toMatchObject({ id: keyId(key), source: 'legacy key file' });
    await rm(path.join(dir, 'keyring.json'), { force: true });
    await writeFile(path.join(dir, 'secret.key'), 'garbage', { mode: 0o600 });
    await expect(open()).rejects.toThrow(/key file .*secret\.key does not hold a 32-byte base64 key/);
  });

  it('takes FLOWCREW_SECRET as the current key and FLOWCREW_SECRET_PREVIOUS as a decrypt-only one', async () => {
    const raw = randomBytes(32);
    const ring = await open({ FLOWCREW_SECRET: `base64:${raw.toString('base64')}`, FLOWCREW_SECRET_PREVIOUS: 'the old passphrase' });
    expect(await ring.current()).toMatchObject({ id: keyId(raw), source: 'FLOWCREW_SECRET' });
    expect(ring.known().map((k) => k.source)).toEqual(['FLOWCREW_SECRET', 'FLOWCREW_SECRET_PREVIOUS']);
    expect(ring.known()[1]!.key.equals(keyFromSecret('the old passphrase'))).toBe(true);
    // No key file is written when the environment supplies the key.
    await expect(stat(ringFile())).rejects.toThrow(/ENOENT/);
    await expect(open({ FLOWCREW_SECRET: 'base64:c2hvcnQ=' })).rejects.toThrow('FLOWCREW_SECRET: a "base64:" value must hold exactly 32 bytes (got 5)');
  });

  it('a running process learns a key another process added: before encrypting, and when it meets the new id', async () => {
    const running = await open();
    const old = await running.current();
    const rotating = await open();
    const added = await rotating.addKey();
    expect(await running.find(added.id)).toMatchObject({ id: added.id });
    expect((await running.current()).id).toBe(added.id);
    // The old key stays known (decrypt only) until it is dropped.
    expect(running.known().map((k) => k.id)).toEqual([added.id, old.id]);
    expect(await rotating.dropKeysExcept(added.id)).toEqual([old.id]);
    await running.refresh();
    expect(running.known().map((k) => k.id)).toEqual([added.id]);
  });

  it('a rewrite that breaks the file is reported and the keys already loaded stay in use', async () => {
    const errors: string[] = [];
    const running = await KeyRing.open({ dataDir: dir, env: {}, onReloadError: (e) => errors.push(e.message) });
    const key = await running.current();
    await writeFile(ringFile(), '{"broken', { mode: 0o600 });
    expect((await running.current()).id).toBe(key.id);
    expect(errors).toEqual([expect.stringMatching(/is not valid JSON/)]);
  });

  it('rotation carries the legacy key into the ring and deletes the legacy file when the old keys are dropped', async () => {
    const legacy = randomBytes(32);
    await writeFile(path.join(dir, 'secret.key'), legacy.toString('base64'), { mode: 0o600 });
    const ring = await open();
    const added = await ring.addKey();
    expect(ring.known().map((k) => k.id).sort()).toEqual([added.id, keyId(legacy)].sort());
    expect(await ring.dropKeysExcept(added.id)).toEqual([keyId(legacy)]);
    await expect(stat(path.join(dir, 'secret.key'))).rejects.toThrow(/ENOENT/);
    const reopened = await open();
    expect(reopened.known().map((k) => k.id)).toEqual([added.id]);
  });

  it('one rotation at a time', async () => {
    const ring = await open();
    await writeFile(`${ringFile()}.lock`, '123');
    await expect(ring.addKey()).rejects.toThrow(/another key rotation holds .*keyring\.json\.lock/);
  });

  it('an in-memory runtime gets a throwaway key and writes no file', async () => {
    const ring = await KeyRing.open({ dataDir: ':memory:', env: {} });
    expect((await ring.current()).source).toBe('memory');
  });
});
