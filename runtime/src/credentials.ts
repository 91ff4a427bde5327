/**
 * Credentials vault: fields are encrypted at rest with AES-256-GCM (node:crypto) under a key from
 * FLOWCREW_SECRET or a key file generated in the data dir. Clear text never leaves the runtime's process.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Storage } from './storage/types.ts';

export interface CredentialSummary {
  id: string;
  name: string;
  type: string;
  /** Field names only: values are never returned. */
  fields: string[];
  createdAt: number;
  updatedAt: number;
}

export class CredentialVault {
  private constructor(
    private readonly storage: Storage,
    private readonly key: Buffer,
  ) {}

  static async open(storage: Storage, dataDir: string, secret = process.env.FLOWCREW_SECRET): Promise<CredentialVault> {
    if (secret) return new CredentialVault(storage, createHash('sha256').update(secret).digest());
    // A throwaway in-memory runtime gets a throwaway key: its credentials die with it anyway.
    if (dataDir === ':memory:') return new CredentialVault(storage, randomBytes(32));
    const file = path.join(dataDir, 'secret.key');
    try {
      return new CredentialVault(storage, Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
    } catch {
      await mkdir(dataDir, { recursive: true });
      const key = randomBytes(32);
      // 'wx' so two processes starting at once cannot overwrite each other's key.
      await writeFile(file, key.toString('base64'), { mode: 0o600, flag: 'wx' }).catch(async () => {
        key.set(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64'));
      });
      return new CredentialVault(storage, key);
    }
  }

  private encrypt(fields: Record<string, unknown>): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(fields), 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
  }

  private decrypt(blob: string): Record<string, unknown> {
    const [version, iv, tag, body] = blob.split('.');
    if (version !== 'v1' || !iv || !tag || !body) throw new Error('credential blob has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const clear = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    return JSON.parse(clear.toString('utf8')) as Record<string, unknown>;
  }

  async list(): Promise<CredentialSummary[]> {
    const records = await this.storage.listCredentials();
    return records.map((r) => ({ id: r.id, name: r.name, type: r.type, fields: Object.keys(this.decrypt(r.data)), createdAt: r.createdAt, updatedAt: r.updatedAt }));
  }

  async save(input: { id?: string; name: string; type: string; fields: Record<string, unknown> }): Promise<CredentialSummary> {
    const now = Date.now();
    const existing = input.id ? await this.storage.getCredential(input.id) : null;
    const record = {
      id: input.id ?? randomUUID(),
      name: input.name,
      type: input.type,
      data: this.encrypt(input.fields),
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    };
    await this.storage.saveCredential(record);
    return { id: record.id, name: record.name, type: record.type, fields: Object.keys(input.fields), createdAt: record.createdAt, updatedAt: now };
  }

  /** Decrypted fields, for the executor only. */
  async resolve(id: string): Promise<Record<string, unknown> | undefined> {
    const record = await this.storage.getCredential(id);
    return record ? this.decrypt(record.data) : undefined;
  }

  delete(id: string): Promise<boolean> {
    return this.storage.deleteCredential(id);
  }
}
