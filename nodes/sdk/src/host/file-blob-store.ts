/**
 * The implementation of BlobServices a host gives nodes: content-addressed files in a directory (the runtime's data
 * directory), each kept while a run that put or linked it is kept.
 *
 *   <dir>/data/ab/<sha256 hex>   the content, stored once however many times it is put
 *   <dir>/refs/<runId>/<hex>     an empty marker: this run keeps that blob
 *   <dir>/refs/_unowned/<hex>    put without a run (a trigger before emit): kept for `unownedTtlMs`
 *   <dir>/tmp/                   content being written
 *
 * `gc(runExists)` removes the markers of runs that are gone and then every blob no marker keeps. One process per
 * directory (as with the SQLite database beside it): a put and a gc of the same process never race (see inFlight).
 */
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isBlobRef, type BlobPutOptions, type BlobRef, type BlobServices, type BlobSource } from '../blobs.ts';

const UNOWNED = '_unowned';
const SAFE_RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export class BlobTooLargeError extends Error {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'BlobTooLargeError';
  }
}

export interface BlobGcResult {
  /** Runs whose markers were removed (the runs are gone). */
  runs: number;
  blobs: number;
  bytes: number;
}

export class FileBlobStore implements BlobServices {
  /** Hashes being put right now: gc never deletes those, whatever the markers say at the moment it looked. */
  private readonly inFlight = new Map<string, number>();
  /** Blobs gc is deleting right now: a put of the same content waits for that before it looks for the file. */
  private readonly deleting = new Map<string, Promise<void>>();

  private constructor(
    readonly dir: string,
    private readonly temporary: boolean,
  ) {}

  /** A store in `dir` (created if missing). */
  static async open(dir: string): Promise<FileBlobStore> {
    for (const sub of ['data', 'refs', 'tmp']) await mkdir(path.join(dir, sub), { recursive: true });
    return new FileBlobStore(dir, false);
  }

  /** A store in a fresh temporary directory, removed by `close` (a throwaway runtime, tests). */
  static async temporary(): Promise<FileBlobStore> {
    const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-blobs-'));
    const store = await FileBlobStore.open(dir);
    return new FileBlobStore(store.dir, true);
  }

  async put(data: BlobSource, options: BlobPutOptions = {}): Promise<BlobRef> {
    const owner = options.runId ?? UNOWNED;
    if (owner !== UNOWNED && !SAFE_RUN_ID.test(owner)) throw new Error(`blob put: "${owner}" is not a run id`);
    const hash = createHash('sha256');
    let size = 0;
    const max = options.maxBytes ?? Infinity;
    const tmp = path.join(this.dir, 'tmp', randomUUID());
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        size += chunk.length;
        if (size > max) return callback(new BlobTooLargeError(`blob is larger than the limit of ${max} bytes`));
        hash.update(chunk);
        callback(null, chunk);
      },
    });
    const source = typeof data === 'string' || data instanceof Uint8Array ? Readable.from([Buffer.from(data)]) : Readable.from(data);
    try {
      await pipeline(source, counter, createWriteStream(tmp, { flags: 'wx' }));
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    const hex = hash.digest('hex');
    this.inFlight.set(hex, (this.inFlight.get(hex) ?? 0) + 1);
    try {
      // The marker first: from here on gc keeps the content, whether it is new or stored already.
      await this.mark(hex, owner);
      await this.deleting.get(hex);
      const target = this.pathOf(hex);
      const exists = await stat(target).then(
        () => true,
        () => false,
      );
      if (exists) await unlink(tmp);
      else {
        await mkdir(path.dirname(target), { recursive: true });
        await rename(tmp, target);
      }
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    } finally {
      const left = this.inFlight.get(hex)! - 1;
      if (left > 0) this.inFlight.set(hex, left);
      else this.inFlight.delete(hex);
    }
    return { $blob: `sha256:${hex}`, size, ...(options.contentType ? { contentType: options.contentType } : {}), ...(options.name ? { name: options.name } : {}) };
  }

  async get(ref: BlobRef | string): Promise<Readable> {
    const hex = hexOf(ref);
    const file = this.pathOf(hex);
    try {
      await stat(file);
    } catch {
      throw new Error(`blob sha256:${hex.slice(0, 12)}… is gone: the runs that kept it were removed (run retention), or it was never stored here`);
    }
    return createReadStream(file);
  }

  async link(ref: BlobRef | string, runId: string): Promise<void> {
    if (!SAFE_RUN_ID.test(runId)) throw new Error(`blob link: "${runId}" is not a run id`);
    const hex = hexOf(ref);
    await stat(this.pathOf(hex)).catch(() => {
      throw new Error(`blob sha256:${hex.slice(0, 12)}… cannot be linked to run ${runId}: it is gone`);
    });
    await this.mark(hex, runId);
  }

  private async mark(hex: string, owner: string): Promise<void> {
    const dir = path.join(this.dir, 'refs', owner);
    await mkdir(dir, { recursive: true });
    // Rewritten each time: for an unowned blob, its time is when it was last put.
    await writeFile(path.join(dir, hex), '');
  }

  private pathOf(hex: string): string {
    return path.join(this.dir, 'data', hex.slice(0, 2), hex);
  }

  /**
   * Remove the markers of runs `runExists` says are gone and unowned markers older than `unownedTtlMs` (default a
   * day), then every blob no marker keeps that is older than `graceMs` (default a minute), and stale temporary files.
   */
  async gc(runExists: (runId: string) => Promise<boolean>, options: { unownedTtlMs?: number; graceMs?: number; now?: number } = {}): Promise<BlobGcResult> {
    const now = options.now ?? Date.now();
    const graceMs = options.graceMs ?? 60_000;
    const result: BlobGcResult = { runs: 0, blobs: 0, bytes: 0 };
    const refsDir = path.join(this.dir, 'refs');
    const live = new Set<string>();
    for (const owner of await readdir(refsDir).catch(() => [] as string[])) {
      const dir = path.join(refsDir, owner);
      if (owner === UNOWNED) {
        for (const hex of await readdir(dir).catch(() => [] as string[])) {
          const info = await stat(path.join(dir, hex)).catch(() => null);
          if (info && now - info.mtimeMs > (options.unownedTtlMs ?? 86_400_000)) await unlink(path.join(dir, hex)).catch(() => undefined);
          else live.add(hex);
        }
        continue;
      }
      if (!(await runExists(owner))) {
        await rm(dir, { recursive: true, force: true });
        result.runs++;
        continue;
      }
      for (const hex of await readdir(dir).catch(() => [] as string[])) live.add(hex);
    }
    const dataDir = path.join(this.dir, 'data');
    for (const prefix of await readdir(dataDir).catch(() => [] as string[])) {
      for (const hex of await readdir(path.join(dataDir, prefix)).catch(() => [] as string[])) {
        if (live.has(hex)) continue;
        const file = path.join(dataDir, prefix, hex);
        const info = await stat(file).catch(() => null);
        if (!info || now - info.mtimeMs < graceMs) continue;
        // Checked and marked as deleting in one turn of the event loop: a put of the same content that began
        // meanwhile is in flight (skipped here), and one that begins later waits for the deletion to finish.
        if (this.inFlight.has(hex)) continue;
        const deletion = unlink(file).catch(() => undefined);
        this.deleting.set(hex, deletion);
        await deletion;
        this.deleting.delete(hex);
        result.blobs++;
        result.bytes += info.size;
      }
    }
    const tmpDir = path.join(this.dir, 'tmp');
    for (const name of await readdir(tmpDir).catch(() => [] as string[])) {
      const info = await stat(path.join(tmpDir, name)).catch(() => null);
      if (info && now - info.mtimeMs > Math.max(graceMs, 3_600_000)) await unlink(path.join(tmpDir, name)).catch(() => undefined);
    }
    return result;
  }

  /** Remove a temporary store's directory; a store in a data directory stays. */
  async close(): Promise<void> {
    if (this.temporary) await rm(this.dir, { recursive: true, force: true });
  }
}

function hexOf(ref: BlobRef | string): string {
  const id = typeof ref === 'string' ? ref : isBlobRef(ref) ? ref.$blob : undefined;
  const match = id === undefined ? null : /^sha256:([0-9a-f]{64})$/.exec(id);
  if (!match) throw new Error(`not a blob reference: ${JSON.stringify(typeof ref === 'string' ? ref : (ref as { $blob?: unknown })?.$blob ?? ref).slice(0, 100)}`);
  return match[1]!;
}
