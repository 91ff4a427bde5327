import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Logger } from '@flowcrew/sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialVault } from './credentials.ts';
import { openStorage } from './storage/index.ts';
import type { Storage } from './storage/types.ts';
import { keyId } from './vault/keyring.ts';
import { rotateKey } from './vault/rotate.ts';

let dir: string;
let storages: Storage[];
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-vault-'));
  storages = [];
});
afterEach(async () => {
  for (const s of storages) await s.close();
  await rm(dir, { recursive: true, force: true });
});

/** A storage connection of its own, as a separate process would have on the same database. */
async function connect(): Promise<Storage> {
  const storage = await openStorage({ dataDir: dir });
  storages.push(storage);
  return storage;
}

function recordingLog(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => lines.push(`${level} ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A blob exactly as the vault of earlier versions wrote it: 'v1', no key id, key = sha256(FLOWCREW_SECRET) or the key file. */
function legacyBlob(key: Buffer, fields: Record<string, unknown>): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(fields), 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
}

async function storeLegacy(storage: Storage, id: string, key: Buffer, fields: Record<string, unknown>): Promise<void> {
  await storage.saveCredential({ id, name: id, type: 'http-auth', data: legacyBlob(key, fields), createdAt: 1, updatedAt: 1 });
}

describe('credential vault', () => {
  it('stores fields encrypted under a named key and lists field names only', async () => {
    const storage = await connect();
    const vault = await CredentialVault.open(storage, dir, { env: {} });
    const saved = await vault.save({ name: 'CRM', type: 'http-auth', fields: { username: 'ada', password: 'pa55-w0rd-xyz' } });
    expect(saved.fields).toEqual(['username', 'password']);
    const stored = await storage.getCredential(saved.id);
    expect(stored!.data).not.toContain('pa55');
    expect(stored!.data.split('.').slice(0, 2)).toEqual(['v2', (await vault.keys.current()).id]);
    expect(await vault.list()).toEqual([expect.objectContaining({ id: saved.id, fields: ['username', 'password'] })]);
    expect(JSON.stringify(await vault.list())).not.toContain('pa55');
    expect(await vault.resolve(saved.id)).toEqual({ username: 'ada', password: 'pa55-w0rd-xyz' });
  });

  it('replaces some fields without the others being sent again; null removes one', async () => {
    const vault = await CredentialVault.open(await connect(), dir, { env: {} });
    const { id } = await vault.save({ name: 'API', type: 'header', fields: { header: 'X-Key', token: 'one', extra: 'x' } });
    const updated = await vault.update(id, { name: 'API v2', fields: { token: 'two', extra: null } });
    expect(updated).toMatchObject({ name: 'API v2', fields: ['header', 'token'] });
    expect(await vault.resolve(id)).toEqual({ header: 'X-Key', token: 'two' });
    expect(await vault.update('nope', { fields: {} })).toBeUndefined();
  });

  it('still reads v1 blobs of earlier versions: under FLOWCREW_SECRET and under the old key file', async () => {
    const storage = await connect();
    await storeLegacy(storage, 'from-env', createHash('sha256').update('my old secret').digest(), { token: 'env-token' });
    const viaEnv = await CredentialVault.open(storage, dir, { env: { FLOWCREW_SECRET: 'my old secret' } });
    expect(await viaEnv.resolve('from-env')).toEqual({ token: 'env-token' });

    const fileKey = randomBytes(32);
    await writeFile(path.join(dir, 'secret.key'), fileKey.toString('base64'), { mode: 0o600 });
    await storage.deleteCredential('from-env');
    await storeLegacy(storage, 'from-file', fileKey, { token: 'file-token' });
    const viaFile = await CredentialVault.open(storage, dir, { env: {} });
    expect(await viaFile.resolve('from-file')).toEqual({ token: 'file-token' });
  });

  it('a blob moved onto another credential does not decrypt (the id is authenticated with it)', async () => {
    const storage = await connect();
    const vault = await CredentialVault.open(storage, dir, { env: {} });
    const a = await vault.save({ name: 'a', type: 't', fields: { secret: 'A' } });
    const b = await vault.save({ name: 'b', type: 't', fields: { secret: 'B' } });
    const blobA = (await storage.getCredential(a.id))!.data;
    await storage.replaceCredentialData(b.id, (await storage.getCredential(b.id))!.data, blobA);
    await expect(vault.resolve(b.id)).rejects.toThrow(`credential "${b.id}" does not decrypt with key ${blobA.split('.')[1]} (key ring file): the stored data was altered, or the key was replaced by another one`);
    expect((await vault.list()).find((c) => c.id === b.id)).toMatchObject({ fields: [], error: expect.stringMatching(/does not decrypt/) });
  });

  it('a wrong key is a clear error at start, naming the key ids and what to set', async () => {
    const storage = await connect();
    const vault = await CredentialVault.open(storage, dir, { env: { FLOWCREW_SECRET: 'right secret' } });
    await vault.save({ name: 'x', type: 't', fields: { token: 't' } });
    const right = keyId(createHash('sha256').update('right secret').digest());
    const wrong = keyId(createHash('sha256').update('wrong secret').digest());
    await expect(CredentialVault.open(storage, dir, { env: { FLOWCREW_SECRET: 'wrong secret' } })).rejects.toThrow(
      `1 of 1 stored credential(s) cannot be decrypted with the configured key(s) [${wrong} (FLOWCREW_SECRET)]: credential "${(await vault.list())[0]!.id}" is encrypted with key ${right}, which this runtime does not have; restore the key ring file, or set FLOWCREW_SECRET_PREVIOUS to the secret it was written with. Set FLOWCREW_SECRET to the secret they were written with (or FLOWCREW_SECRET_PREVIOUS during a rotation), or restore the key ring file.`,
    );
    // v1 blobs have no key id: the message says none of the keys fits.
    await storeLegacy(storage, 'old', createHash('sha256').update('right secret').digest(), { token: 'x' });
    await expect(CredentialVault.open(storage, dir, { env: { FLOWCREW_SECRET: 'wrong secret' } })).rejects.toThrow(/credential "old" \(written by an earlier version\) does not decrypt with any configured key/);
    // With the old secret as FLOWCREW_SECRET_PREVIOUS, both decrypt.
    const both = await CredentialVault.open(storage, dir, { env: { FLOWCREW_SECRET: 'wrong secret', FLOWCREW_SECRET_PREVIOUS: 'right secret' } });
    expect(await both.resolve('old')).toEqual({ token: 'x' });
  });

  it('when only some credentials are unreadable the runtime starts, logs which, and lists them with the error', async () => {
    const storage = await connect();
    const vault = await CredentialVault.open(storage, dir, { env: {} });
    await vault.save({ name: 'good', type: 't', fields: { a: 1 } });
    await storeLegacy(storage, 'lost', randomBytes(32), { a: 2 });
    const log = recordingLog();
    const reopened = await CredentialVault.open(storage, dir, { env: {}, log });
    expect(log.lines).toEqual([expect.stringMatching(/^error 1 of 2 stored credential\(s\) cannot be decrypted .*credential "lost"/)]);
    expect((await reopened.list()).map((c) => [c.name, c.fields, c.error === undefined])).toEqual([['good', ['a'], true], ['lost', [], false]]);
  });

  it('rotation re-encrypts everything (v1 blobs too) while another process keeps reading and writing', async () => {
    const running = await CredentialVault.open(await connect(), dir, { env: {} });
    const oldKey = await running.keys.current();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await running.save({ name: `c${i}`, type: 't', fields: { token: `secret-${i}` } })).id);
    const rotStorage = await connect();
    await storeLegacy(rotStorage, 'legacy', oldKey.key, { token: 'legacy-secret' });

    const rotator = await CredentialVault.open(rotStorage, dir, { env: {} });
    let stop = false;
    let reads = 0;
    const writtenDuring: string[] = [];
    const reader = (async () => {
      while (!stop) {
        for (const [i, id] of ids.entries()) expect(await running.resolve(id)).toEqual({ token: `secret-${i}` });
        expect(await running.resolve('legacy')).toEqual({ token: 'legacy-secret' });
        writtenDuring.push((await running.save({ name: 'during', type: 't', fields: { token: 'new' } })).id);
        reads++;
      }
    })();
    const report = await rotateKey(rotator, { graceMs: 200 });
    stop = true;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(report).toMatchObject({ generated: true, failed: [], droppedKeys: [oldKey.id] });
    expect(report.keyId).not.toBe(oldKey.id);

    // Everything, including what the running process wrote during the rotation, is under the new key only.
    const usage = await rotator.keyUsage();
    expect(new Set(usage.map((u) => u.keyId))).toEqual(new Set([report.keyId]));
    const ring = JSON.parse(await readFile(path.join(dir, 'keyring.json'), 'utf8'));
    expect(ring.keys.map((k: { id: string }) => k.id)).toEqual([report.keyId]);
    // The running process keeps working after the rotation, and a fresh process only needs the new key.
    for (const [i, id] of ids.entries()) expect(await running.resolve(id)).toEqual({ token: `secret-${i}` });
    const later = await running.save({ name: 'after', type: 't', fields: { token: 'after' } });
    expect((await rotStorage.getCredential(later.id))!.data.split('.')[1]).toBe(report.keyId);
    const fresh = await CredentialVault.open(await connect(), dir, { env: {} });
    expect(await fresh.resolve('legacy')).toEqual({ token: 'legacy-secret' });
    expect(await fresh.resolve(writtenDuring.at(-1)!)).toEqual({ token: 'new' });
  });

  it('with FLOWCREW_SECRET: the new secret current, the old one previous, rotation re-encrypts under the new one', async () => {
    const storage = await connect();
    const before = await CredentialVault.open(storage, dir, { env: { FLOWCREW_SECRET: 'old secret' } });
    const { id } = await before.save({ name: 'x', type: 't', fields: { token: 'kept' } });
    const env = { FLOWCREW_SECRET: 'new secret', FLOWCREW_SECRET_PREVIOUS: 'old secret' };
    const report = await rotateKey(await CredentialVault.open(storage, dir, { env }), { graceMs: 0 });
    expect(report).toMatchObject({ generated: false, keySource: 'FLOWCREW_SECRET', reencrypted: 1, droppedKeys: [] });
    const after = await CredentialVault.open(storage, dir, { env: { FLOWCREW_SECRET: 'new secret' } });
    expect(await after.resolve(id)).toEqual({ token: 'kept' });
  });

  it('a credential edited during the rotation keeps the edit (compare-and-swap)', async () => {
    const storage = await connect();
    const vault = await CredentialVault.open(storage, dir, { env: {} });
    const { id } = await vault.save({ name: 'x', type: 't', fields: { token: 'v1' } });
    const stale = (await storage.getCredential(id))!.data;
    await vault.update(id, { fields: { token: 'v2' } });
    expect(await storage.replaceCredentialData(id, stale, 'v2.x.y.z.w')).toBe(false);
    expect(await vault.resolve(id)).toEqual({ token: 'v2' });
  });
});
