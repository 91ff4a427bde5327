/**
 * Credentials vault: fields are encrypted at rest with AES-256-GCM (runtime/src/vault/cipher.ts) under the master
 * keys of a key ring (runtime/src/vault/keyring.ts), never stored in the database. Clear text never leaves the
 * runtime's process: the API lists field names only, and the editor can set and replace values, never read them.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@flowcrew/sdk';
import { ProblemError } from './errors.ts';
import type { CredentialRecord, Storage } from './storage/types.ts';
import { associatedData, BlobFormatError, blobKeyId, parseBlob, seal, unseal } from './vault/cipher.ts';
import { KeyRing, KeyRingError, type MasterKey } from './vault/keyring.ts';

export interface CredentialSummary {
  id: string;
  name: string;
  type: string;
  /** Field names only: values are never returned. */
  fields: string[];
  /** The project it belongs to. */
  projectId: string;
  createdAt: number;
  updatedAt: number;
  /** Set when this runtime cannot decrypt the credential (e.g. its key was dropped): what is wrong. */
  error?: string;
}

/** A credential that cannot be decrypted: which one and why, never any of its content. */
export class CredentialDecryptError extends Error {
  constructor(
    readonly credentialId: string,
    message: string,
  ) {
    super(message);
    this.name = 'CredentialDecryptError';
  }
}

export interface VaultOptions {
  /** The key ring file; default `<dataDir>/keyring.json`. */
  keyRingFile?: string;
  /** Where FLOWCREW_SECRET and FLOWCREW_SECRET_PREVIOUS are read (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: Logger;
}

export class CredentialVault {
  private constructor(
    private readonly storage: Storage,
    readonly keys: KeyRing,
  ) {}

  /**
   * Open the key ring and check that the stored credentials decrypt: a wrong key, or a key file that is garbage or
   * readable by others, stops the start with an error that says which and what to do.
   */
  static async open(storage: Storage, dataDir: string, options: VaultOptions = {}): Promise<CredentialVault> {
    const log = options.log;
    const keys = await KeyRing.open({
      dataDir,
      file: options.keyRingFile,
      env: options.env,
      onReloadError: (error) => log?.error(`credential key ring: ${error.message}; keeping the keys already loaded`),
    });
    const vault = new CredentialVault(storage, keys);
    await vault.checkReadable(log);
    return vault;
  }

  /** One credential per key id is decrypted; none decrypting means the configured key is wrong. */
  private async checkReadable(log?: Logger): Promise<void> {
    const records = await this.storage.listCredentials();
    const byKey = new Map<string, CredentialRecord[]>();
    for (const record of records) byKey.set(blobKeyId(record.data), [...(byKey.get(blobKeyId(record.data)) ?? []), record]);
    const failures: Array<{ count: number; error: Error }> = [];
    for (const group of byKey.values()) {
      try {
        await this.decrypt(group[0]!);
      } catch (error) {
        failures.push({ count: group.length, error: error as Error });
      }
    }
    if (failures.length === 0) return;
    const known = this.keys.known().map((k) => `${k.id} (${k.source})`).join(', ');
    const affected = failures.reduce((n, f) => n + f.count, 0);
    const detail = `${affected} of ${records.length} stored credential(s) cannot be decrypted with the configured key(s) [${known}]: ${failures[0]!.error.message}`;
    if (failures.length === byKey.size) {
      throw new KeyRingError(`${detail}. Set FLOWCREW_SECRET to the secret they were written with (or FLOWCREW_SECRET_PREVIOUS during a rotation), or restore the key ring file.`);
    }
    log?.error(`${detail}. Flows using them will not deploy until the key is restored.`);
  }

  private async encrypt(id: string, fields: Record<string, unknown>, key?: MasterKey): Promise<string> {
    const use = key ?? (await this.keys.current());
    return seal(use.id, use.key, Buffer.from(JSON.stringify(fields), 'utf8'), associatedData(id));
  }

  private async decrypt(record: Pick<CredentialRecord, 'id' | 'data'>): Promise<Record<string, unknown>> {
    const fail = (message: string) => new CredentialDecryptError(record.id, `credential "${record.id}" ${message}`);
    let blob;
    try {
      blob = parseBlob(record.data);
    } catch (error) {
      if (error instanceof BlobFormatError) throw fail(`cannot be read: ${error.message}`);
      throw error;
    }
    let clear: Buffer | undefined;
    if (blob.version === 'v2') {
      const key = await this.keys.find(blob.keyId);
      if (!key) {
        throw fail(`is encrypted with key ${blob.keyId}, which this runtime does not have; restore the key ring file, or set FLOWCREW_SECRET_PREVIOUS to the secret it was written with`);
      }
      try {
        clear = unseal(blob, key.key, associatedData(record.id));
      } catch {
        throw fail(`does not decrypt with key ${blob.keyId} (${key.source}): the stored data was altered, or the key was replaced by another one`);
      }
    } else {
      // Written before key ids existed: the GCM tag tells which of the known keys it was.
      for (const key of this.keys.known()) {
        try {
          clear = unseal(blob, key.key);
          break;
        } catch {
          /* not this key */
        }
      }
      if (!clear) throw fail('(written by an earlier version) does not decrypt with any configured key: is FLOWCREW_SECRET the secret it was written with?');
    }
    return JSON.parse(clear.toString('utf8')) as Record<string, unknown>;
  }

  async list(): Promise<CredentialSummary[]> {
    const records = await this.storage.listCredentials();
    return Promise.all(
      records.map(async (r) => {
        const base = { id: r.id, name: r.name, type: r.type, projectId: r.projectId ?? 'default', createdAt: r.createdAt, updatedAt: r.updatedAt };
        try {
          return { ...base, fields: Object.keys(await this.decrypt(r)) };
        } catch (error) {
          if (!(error instanceof CredentialDecryptError)) throw error;
          return { ...base, fields: [], error: error.message };
        }
      }),
    );
  }

  /**
   * Create, or (with `replace`) replace a credential's name, type and every field. Without `replace`, an id that is
   * taken is refused (409), never overwritten: the insert is atomic in storage.
   */
  async save(input: { id?: string; name: string; type: string; fields: Record<string, unknown>; projectId?: string }, options: { replace?: boolean } = {}): Promise<CredentialSummary> {
    const now = Date.now();
    const existing = input.id ? await this.storage.getCredential(input.id) : null;
    const id = input.id ?? randomUUID();
    // A replaced credential keeps its project; a new one goes where it is created ('default' when not said).
    const projectId = existing?.projectId ?? input.projectId ?? 'default';
    const record = { id, name: input.name, type: input.type, projectId, data: await this.encrypt(id, input.fields), createdAt: existing?.createdAt ?? now, updatedAt: now };
    if (options.replace) await this.storage.saveCredential(record);
    else if (!(await this.storage.insertCredential(record))) throw new ProblemError(409, 'Credential exists', `credential "${id}" already exists; choose another id`);
    return { id: record.id, name: record.name, type: record.type, fields: Object.keys(input.fields), projectId, createdAt: record.createdAt, updatedAt: now };
  }

  /**
   * Change some fields without sending the others again (the editor never has them): a field given a value replaces
   * it, a field given null is removed, fields not mentioned keep their stored value. Undefined when the id is unknown.
   */
  async update(id: string, patch: { name?: string; type?: string; fields?: Record<string, unknown> }): Promise<CredentialSummary | undefined> {
    const existing = await this.storage.getCredential(id);
    if (!existing) return undefined;
    const fields = await this.decrypt(existing);
    for (const [name, value] of Object.entries(patch.fields ?? {})) {
      if (value === null) delete fields[name];
      else fields[name] = value;
    }
    return this.save({ id, name: patch.name ?? existing.name, type: patch.type ?? existing.type, fields }, { replace: true });
  }

  /**
   * Merge `patch` over the stored fields (a node's write-back of a rotated token): compare-and-swap on the stored
   * blob, so an edit made meanwhile is kept and the patch applied over it. `check` sees the merged fields before they
   * are written (throw to refuse). The fields and blob as stored; undefined when the credential is gone.
   */
  async patchFields(id: string, patch: Record<string, unknown>, check?: (type: string, fields: Record<string, unknown>) => void): Promise<{ fields: Record<string, unknown>; data: string } | undefined> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const record = await this.storage.getCredential(id);
      if (!record) return undefined;
      const fields = { ...(await this.decrypt(record)), ...patch };
      check?.(record.type, fields);
      const data = await this.encrypt(id, fields);
      if (await this.storage.replaceCredentialData(id, record.data, data)) return { fields, data };
    }
    throw new CredentialDecryptError(id, `credential "${id}" kept changing while a write-back was being stored; try again`);
  }

  /** Decrypted fields, for the executor only. */
  async resolve(id: string): Promise<Record<string, unknown> | undefined> {
    const record = await this.storage.getCredential(id);
    return record ? this.decrypt(record) : undefined;
  }

  delete(id: string): Promise<boolean> {
    return this.storage.deleteCredential(id);
  }

  /**
   * Rotation: rewrite one credential under `key` unless it already is. Compare-and-swap on the stored blob, so an
   * edit made meanwhile by a running runtime is never overwritten with older fields (it is re-read and retried).
   */
  async reencrypt(id: string, key: MasterKey): Promise<'current' | 'rewritten' | 'gone'> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const record = await this.storage.getCredential(id);
      if (!record) return 'gone';
      if (blobKeyId(record.data) === key.id) return 'current';
      const data = await this.encrypt(id, await this.decrypt(record), key);
      if (await this.storage.replaceCredentialData(id, record.data, data)) return 'rewritten';
    }
    throw new CredentialDecryptError(id, `credential "${id}" kept changing while it was being re-encrypted; run the rotation again`);
  }

  /** Every stored credential's id and the key id its blob names ('v1' for the earlier format). */
  async keyUsage(): Promise<Array<{ id: string; keyId: string }>> {
    return (await this.storage.listCredentials()).map((r) => ({ id: r.id, keyId: blobKeyId(r.data) }));
  }
}
