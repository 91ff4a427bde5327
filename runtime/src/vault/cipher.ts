/**
 * The credential blob format. AES-256-GCM from node:crypto, nothing else:
 * - `v2.<keyId>.<iv>.<tag>.<ciphertext>` (base64 parts): the key id says which master key decrypts it, and the
 *   credential id is bound in as additional authenticated data, so a blob copied onto another row fails to decrypt;
 * - `v1.<iv>.<tag>.<ciphertext>`: written by earlier versions, no key id, no associated data. Still read; rotation
 *   rewrites it as v2.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export type ParsedBlob =
  | { version: 'v1'; iv: Buffer; tag: Buffer; body: Buffer }
  | { version: 'v2'; keyId: string; iv: Buffer; tag: Buffer; body: Buffer };

export class BlobFormatError extends Error {}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function part(text: string | undefined): Buffer {
  if (text === undefined || !B64.test(text)) throw new BlobFormatError('the encrypted data is damaged (not base64)');
  return Buffer.from(text, 'base64');
}

export function parseBlob(blob: string): ParsedBlob {
  const parts = blob.split('.');
  if (parts[0] === 'v2' && parts.length === 5 && parts[1]) return { version: 'v2', keyId: parts[1], iv: part(parts[2]), tag: part(parts[3]), body: part(parts[4]) };
  if (parts[0] === 'v1' && parts.length === 4) return { version: 'v1', iv: part(parts[1]), tag: part(parts[2]), body: part(parts[3]) };
  throw new BlobFormatError(`the encrypted data has an unknown format ("${parts[0]?.slice(0, 8) ?? ''}")`);
}

/** The key id a blob names, or 'v1' for the earlier format that names none. */
export function blobKeyId(blob: string): string {
  const parts = blob.split('.', 2);
  return parts[0] === 'v2' && parts[1] ? parts[1] : parts[0] ?? '';
}

export function associatedData(credentialId: string): Buffer {
  return Buffer.from(`flowcrew:credential:${credentialId}`, 'utf8');
}

export function seal(keyId: string, key: Buffer, clear: Buffer, aad: Buffer): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(clear), cipher.final()]);
  return ['v2', keyId, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join('.');
}

/** Throws when the key is not the one the blob was sealed with, or the blob or its associated data was altered. */
export function unseal(blob: ParsedBlob, key: Buffer, aad?: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, blob.iv, { authTagLength: 16 });
  if (blob.tag.length !== 16) throw new BlobFormatError('the encrypted data is damaged (bad tag length)');
  decipher.setAuthTag(blob.tag);
  if (blob.version === 'v2' && aad) decipher.setAAD(aad);
  return Buffer.concat([decipher.update(blob.body), decipher.final()]);
}
