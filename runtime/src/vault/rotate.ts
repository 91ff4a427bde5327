/**
 * `flowcrew credentials rotate-key`: re-encrypt every credential under a new key while runtimes keep running.
 *
 * 1. A fresh key becomes the key ring file's current key (the old keys stay, decrypt only). Running processes see the
 *    file change before their next encryption and when they meet the new key id, so they read and write with it
 *    from then on. With FLOWCREW_SECRET the operator has already made the new key current (and the old one
 *    FLOWCREW_SECRET_PREVIOUS): nothing is generated, everything is re-encrypted under FLOWCREW_SECRET.
 * 2. Every credential not under the new key is re-encrypted, compare-and-swap per row (an edit made meanwhile wins).
 * 3. After a grace period (a process that encrypted with the old key just before step 1 has written by then), a
 *    second pass catches such stragglers; then the old file keys (and the legacy secret.key) are deleted, and a
 *    last pass re-encrypts anything that still slipped in, while this process still holds the old keys.
 */
import type { Logger } from '@flowcrew/sdk';
import type { CredentialVault } from '../credentials.ts';
import type { MasterKey } from './keyring.ts';

export interface RotationOptions {
  /** Wait between the first pass and the final check, ms (default 2000). */
  graceMs?: number;
  /** Keep the old keys in the ring file instead of deleting them (e.g. to roll back a backup taken before). */
  keepOldKeys?: boolean;
  log?: Logger;
}

export interface RotationReport {
  /** The key everything is encrypted under now. */
  keyId: string;
  /** Where it comes from ('key ring file' for a generated key, 'FLOWCREW_SECRET'). */
  keySource: MasterKey['source'];
  generated: boolean;
  credentials: number;
  reencrypted: number;
  /** Credentials that could not be decrypted with any known key: left as they are, old keys kept. */
  failed: Array<{ id: string; error: string }>;
  droppedKeys: string[];
}

export async function rotateKey(vault: CredentialVault, options: RotationOptions = {}): Promise<RotationReport> {
  const ring = vault.keys;
  const generated = !ring.currentFromEnv;
  const key = generated ? await ring.addKey() : await ring.current();
  options.log?.info(`credential key rotation: new current key ${key.id} (${key.source})`);

  const failed = new Map<string, string>();
  let reencrypted = 0;
  const pass = async () => {
    for (const { id, keyId } of await vault.keyUsage()) {
      if (keyId === key.id) continue;
      try {
        if ((await vault.reencrypt(id, key)) === 'rewritten') reencrypted++;
        failed.delete(id);
      } catch (error) {
        failed.set(id, (error as Error).message);
      }
    }
  };

  await pass();
  await new Promise((resolve) => setTimeout(resolve, options.graceMs ?? 2000));
  await pass();
  let droppedKeys: string[] = [];
  if (!options.keepOldKeys && failed.size === 0) {
    droppedKeys = await ring.dropKeysExcept(key.id);
    await pass();
  }
  if (failed.size > 0) options.log?.error(`credential key rotation: ${failed.size} credential(s) could not be re-encrypted; the old keys are kept`);
  return {
    keyId: key.id,
    keySource: key.source,
    generated,
    credentials: (await vault.keyUsage()).length,
    reencrypted,
    failed: [...failed].map(([id, error]) => ({ id, error })),
    droppedKeys,
  };
}
