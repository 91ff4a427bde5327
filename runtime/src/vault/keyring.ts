/**
 * The master keys that encrypt credentials: several may be known at once (the current one encrypts, older ones only
 * decrypt) so that a key can be rotated while runtimes keep running.
 *
 * Where keys come from, all merged into one ring:
 * - FLOWCREW_SECRET (the current key when set) and FLOWCREW_SECRET_PREVIOUS (decrypt only, during a rotation);
 * - the key ring file (default `<dataDir>/keyring.json`, mode 0600), which `flowcrew credentials rotate-key` rewrites.
 *   A running process re-reads it when it changed on disk before it encrypts, and when it meets an unknown key id, so
 *   it learns a rotated key without a restart;
 * - the single-key file of earlier versions (`<dataDir>/secret.key`), read as long as it exists.
 * Keys never go to the database. A key's id is derived from the key itself, so every process names it the same way.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';

export interface MasterKey {
  /** Derived from the key (see keyId); stored beside every ciphertext. */
  id: string;
  key: Buffer;
  source: 'FLOWCREW_SECRET' | 'FLOWCREW_SECRET_PREVIOUS' | 'key ring file' | 'legacy key file' | 'memory';
  /** When a ring file key was made (ISO time). */
  createdAt?: string;
}

/** A key ring that cannot be used: the runtime refuses to start with it, naming the file and what is wrong. */
export class KeyRingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyRingError';
  }
}

const KEY_BYTES = 32;
export const RING_FORMAT = 'flowcrew-keyring/1';
export const LEGACY_KEY_FILE = 'secret.key';

/** A public name for a key: a hash of it, domain-separated, short enough to sit in every blob. */
export function keyId(key: Buffer): string {
  return createHash('sha256').update('flowcrew-credential-key-id\0').update(key).digest('base64url').slice(0, 16);
}

/**
 * FLOWCREW_SECRET → key. `base64:<44 chars>` is taken as the raw 32-byte key; anything else is hashed with SHA-256,
 * as earlier versions did, so their ciphertexts keep decrypting. Use a long random value either way.
 */
export function keyFromSecret(secret: string, variable = 'FLOWCREW_SECRET'): Buffer {
  if (secret.startsWith('base64:')) {
    const key = Buffer.from(secret.slice(7), 'base64');
    if (key.length !== KEY_BYTES) throw new KeyRingError(`${variable}: a "base64:" value must hold exactly ${KEY_BYTES} bytes (got ${key.length})`);
    return key;
  }
  return createHash('sha256').update(secret).digest();
}

interface RingFile {
  format: string;
  current: string;
  keys: Array<{ id: string; key: string; createdAt: string }>;
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
const checkRingFile = ajv.compile<RingFile>({
  type: 'object',
  required: ['format', 'current', 'keys'],
  additionalProperties: false,
  properties: {
    format: { const: RING_FORMAT },
    current: { type: 'string', minLength: 1 },
    keys: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['id', 'key', 'createdAt'],
        additionalProperties: false,
        properties: {
          id: { type: 'string', minLength: 1 },
          key: { type: 'string', pattern: '^[A-Za-z0-9+/]{43}=$' },
          createdAt: { type: 'string' },
        },
      },
    },
  },
});

export interface KeyRingOptions {
  /** ':memory:' gives a throwaway key (its credentials die with the in-memory database anyway); no file is read. */
  dataDir: string;
  /** Default `<dataDir>/keyring.json`. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Reports a ring file that changed on disk but cannot be read (the process keeps the keys it has). */
  onReloadError?: (error: Error) => void;
}

interface FileStamp {
  ino: number;
  size: number;
  mtimeMs: number;
}

export class KeyRing {
  private envKeys: MasterKey[] = [];
  private fileKeys: MasterKey[] = [];
  private fileCurrent: string | undefined;
  private legacyKey: MasterKey | undefined;
  private memoryKey: MasterKey | undefined;
  /** Keys this process dropped from the file in a rotation: still usable here, to catch a last straggler. */
  private retired: MasterKey[] = [];
  private stamp: FileStamp | null = null;

  private constructor(
    readonly file: string | null,
    readonly legacyFile: string | null,
    private readonly onReloadError: (error: Error) => void,
  ) {}

  /** Read every key source; create a key ring file with a fresh key when there is no key at all. */
  static async open(options: KeyRingOptions): Promise<KeyRing> {
    const env = options.env ?? process.env;
    const onReloadError = options.onReloadError ?? (() => {});
    if (options.dataDir === ':memory:') {
      const ring = new KeyRing(null, null, onReloadError);
      ring.envKeys = envKeys(env);
      if (ring.envKeys.length === 0) {
        const key = randomBytes(KEY_BYTES);
        ring.memoryKey = { id: keyId(key), key, source: 'memory' };
      }
      return ring;
    }
    const file = path.resolve(options.file ?? path.join(options.dataDir, 'keyring.json'));
    const ring = new KeyRing(file, path.join(options.dataDir, LEGACY_KEY_FILE), onReloadError);
    ring.envKeys = envKeys(env);
    await ring.loadFile(true);
    await ring.loadLegacy();
    if (ring.envKeys.length === 0 && !ring.fileCurrent && !ring.legacyKey) await ring.createFile();
    return ring;
  }

  /** Whether the current key comes from FLOWCREW_SECRET (rotation then re-encrypts under it, it cannot make one). */
  get currentFromEnv(): boolean {
    return this.envKeys[0]?.source === 'FLOWCREW_SECRET';
  }

  /** The key new ciphertexts are written under; first picks up a ring file another process rewrote. */
  async current(): Promise<MasterKey> {
    await this.refresh();
    return this.currentNow();
  }

  private currentNow(): MasterKey {
    const fromEnv = this.envKeys.find((k) => k.source === 'FLOWCREW_SECRET');
    const fromFile = this.fileKeys.find((k) => k.id === this.fileCurrent);
    const key = fromEnv ?? fromFile ?? this.legacyKey ?? this.memoryKey;
    if (!key) throw new KeyRingError('no credential key is configured: set FLOWCREW_SECRET or keep the key ring file');
    return key;
  }

  /** A key by id; an unknown id makes the ring re-read its file once (a rotation may have added the key). */
  async find(id: string): Promise<MasterKey | undefined> {
    const known = this.known().find((k) => k.id === id);
    if (known) return known;
    await this.refresh();
    return this.known().find((k) => k.id === id);
  }

  /** Every key this process knows, the current one first (earlier versions' blobs carry no id: all are tried). */
  known(): MasterKey[] {
    const all = [...this.envKeys, ...this.fileKeys, ...(this.legacyKey ? [this.legacyKey] : []), ...(this.memoryKey ? [this.memoryKey] : []), ...this.retired];
    let current: MasterKey | undefined;
    try {
      current = this.currentNow();
    } catch {
      current = undefined;
    }
    const seen = new Set<string>();
    return [...(current ? [current] : []), ...all].filter((k) => !seen.has(k.id) && seen.add(k.id));
  }

  /** Re-read the ring file if it changed on disk (cheap: one stat). A broken rewrite keeps the keys already known. */
  async refresh(): Promise<void> {
    if (!this.file) return;
    try {
      await this.loadFile(false);
    } catch (error) {
      this.onReloadError(error as Error);
    }
  }

  /**
   * Rotation, step 1: a fresh key becomes the ring file's current key; the keys already there stay (decrypt only).
   * The legacy key file's key is carried into the ring, so nothing depends on that file any more.
   */
  async addKey(): Promise<MasterKey> {
    if (!this.file) throw new KeyRingError('an in-memory runtime has no key ring to rotate');
    const key = randomBytes(KEY_BYTES);
    const added: MasterKey = { id: keyId(key), key, source: 'key ring file' };
    await this.withFileLock(async () => {
      await this.loadFile(true);
      const carried = this.legacyKey && !this.fileKeys.some((k) => k.id === this.legacyKey!.id) ? [{ ...this.legacyKey, source: 'key ring file' as const }] : [];
      await this.writeFile(added.id, [...this.fileKeys, ...carried, added]);
    });
    return added;
  }

  /**
   * Rotation, last step: forget every file key but `keep`, and delete the legacy key file. When `keep` comes from
   * FLOWCREW_SECRET the ring file has nothing left to hold and goes too. Keys from the environment are the
   * operator's to remove (FLOWCREW_SECRET_PREVIOUS).
   */
  async dropKeysExcept(keep: string): Promise<string[]> {
    if (!this.file) return [];
    const file = this.file;
    const dropped: string[] = [];
    await this.withFileLock(async () => {
      await this.loadFile(true);
      const kept = this.fileKeys.filter((k) => k.id === keep);
      this.retired.push(...this.fileKeys.filter((k) => k.id !== keep), ...(this.legacyKey ? [this.legacyKey] : []));
      dropped.push(...this.fileKeys.filter((k) => k.id !== keep).map((k) => k.id));
      if (kept.length > 0 && dropped.length > 0) await this.writeFile(keep, kept);
      if (kept.length === 0 && dropped.length > 0) {
        await unlink(file);
        await this.loadFile(true);
      }
      if (this.legacyKey && this.legacyFile) {
        if (this.legacyKey.id !== keep && !dropped.includes(this.legacyKey.id)) dropped.push(this.legacyKey.id);
        await unlink(this.legacyFile).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
        this.legacyKey = undefined;
      }
    });
    return dropped;
  }

  // ---- files ---------------------------------------------------------------------------------------------------

  /** Load the ring file (at open: strictly; later: only when its stat changed). A missing file means no file keys. */
  private async loadFile(force: boolean): Promise<void> {
    const file = this.file!;
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new KeyRingError(`key ring file ${file} cannot be read: ${(error as Error).message}`);
      // Removed while running: keep what is known (a process must not lose its keys to a stray rm).
      if (force) {
        this.fileKeys = [];
        this.fileCurrent = undefined;
      }
      this.stamp = null;
      return;
    }
    const stamp = { ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
    if (!force && this.stamp && stamp.ino === this.stamp.ino && stamp.size === this.stamp.size && stamp.mtimeMs === this.stamp.mtimeMs) return;
    // Remembered before parsing: a broken rewrite is reported once, not on every later call.
    this.stamp = stamp;
    checkOwnerOnly(file, info.mode);
    const text = await readFile(file, 'utf8').catch((error: Error) => {
      throw new KeyRingError(`key ring file ${file} cannot be read: ${error.message}`);
    });
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new KeyRingError(`key ring file ${file} is not valid JSON (${(error as Error).message}); restore it from a backup or set FLOWCREW_SECRET`);
    }
    if (!checkRingFile(parsed)) {
      const problems = (checkRingFile.errors ?? []).map((e) => `${e.instancePath || '/'}: ${e.message}`).join('; ');
      throw new KeyRingError(`key ring file ${file} is not a Flowcrew key ring (${problems})`);
    }
    const keys = parsed.keys.map((entry, i): MasterKey => {
      const key = Buffer.from(entry.key, 'base64');
      if (keyId(key) !== entry.id) throw new KeyRingError(`key ring file ${file}: /keys/${i}/id does not match its key (the file was edited by hand or damaged)`);
      return { id: entry.id, key, source: 'key ring file', createdAt: entry.createdAt };
    });
    if (!keys.some((k) => k.id === parsed.current)) throw new KeyRingError(`key ring file ${file}: /current names key "${parsed.current}", which is not in /keys`);
    this.fileKeys = keys;
    this.fileCurrent = parsed.current;
  }

  private async loadLegacy(): Promise<void> {
    if (!this.legacyFile) return;
    let info;
    try {
      info = await stat(this.legacyFile);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new KeyRingError(`key file ${this.legacyFile} cannot be read: ${(error as Error).message}`);
    }
    checkOwnerOnly(this.legacyFile, info.mode);
    const text = (await readFile(this.legacyFile, 'utf8')).trim();
    const key = Buffer.from(text, 'base64');
    if (!/^[A-Za-z0-9+/]{43}=$/.test(text) || key.length !== KEY_BYTES) {
      throw new KeyRingError(`key file ${this.legacyFile} does not hold a ${KEY_BYTES}-byte base64 key; restore it from a backup or set FLOWCREW_SECRET`);
    }
    this.legacyKey = { id: keyId(key), key, source: 'legacy key file' };
  }

  /**
   * First start: a new ring with one fresh key. Two processes starting at once agree on one file: it is written whole
   * under a temporary name and then linked to its name, which fails if it exists (opening it 'wx' and writing it let
   * another process read it empty in between: "not valid JSON", seen with four processes starting at once).
   */
  private async createFile(): Promise<void> {
    const file = this.file!;
    await mkdir(path.dirname(file), { recursive: true });
    const key = randomBytes(KEY_BYTES);
    const body = ringJson(keyId(key), [{ id: keyId(key), key, source: 'key ring file' }]);
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.new`;
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await link(temp, file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new KeyRingError(`cannot create key ring file ${file}: ${(error as Error).message}`);
    } finally {
      await unlink(temp).catch(() => {});
    }
    await this.loadFile(true);
  }

  /** Replace the ring file atomically (write a 0600 temporary file, fsync, rename over). */
  private async writeFile(current: string, keys: MasterKey[]): Promise<void> {
    const file = this.file!;
    await mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(ringJson(current, keys));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
    await this.loadFile(true);
  }

  /** One rotation at a time: a lock file beside the ring. */
  private async withFileLock<T>(work: () => Promise<T>): Promise<T> {
    const lock = `${this.file!}.lock`;
    await mkdir(path.dirname(lock), { recursive: true });
    let handle;
    try {
      handle = await open(lock, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new KeyRingError(`another key rotation holds ${lock}; if none is running, delete that file and retry`);
      throw error;
    }
    try {
      await handle.writeFile(String(process.pid));
      return await work();
    } finally {
      await handle.close();
      await unlink(lock).catch(() => {});
    }
  }
}

function envKeys(env: NodeJS.ProcessEnv): MasterKey[] {
  const keys: MasterKey[] = [];
  if (env.FLOWCREW_SECRET) {
    const key = keyFromSecret(env.FLOWCREW_SECRET);
    keys.push({ id: keyId(key), key, source: 'FLOWCREW_SECRET' });
  }
  if (env.FLOWCREW_SECRET_PREVIOUS) {
    const key = keyFromSecret(env.FLOWCREW_SECRET_PREVIOUS, 'FLOWCREW_SECRET_PREVIOUS');
    keys.push({ id: keyId(key), key, source: 'FLOWCREW_SECRET_PREVIOUS' });
  }
  return keys;
}

/** A key file readable by anyone but its owner is refused: the key is the only thing between the database and the secrets. */
function checkOwnerOnly(file: string, mode: number): void {
  if ((mode & 0o077) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(3, '0');
    throw new KeyRingError(`key file ${file} has mode ${octal}: it must be readable by its owner only (chmod 600 ${file})`);
  }
}

function ringJson(current: string, keys: MasterKey[]): string {
  const file: RingFile = {
    format: RING_FORMAT,
    current,
    keys: keys.map((k) => ({ id: k.id, key: k.key.toString('base64'), createdAt: k.createdAt ?? new Date().toISOString() })),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}
