/**
 * Local files confined to one directory. Every path is resolved lexically (no `..` above the root) and then through
 * the real file system: the deepest existing part of it is realpath'd, so a symbolic link pointing outside the root
 * is refused, also for targets that do not exist yet. Files are opened with O_NOFOLLOW after that check, so a link
 * planted at the last component in between is not followed either.
 */
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, open, opendir, realpath, rename, rm, rmdir, stat, unlink, copyFile } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isInside, relativePath } from '../paths.ts';
import { FileStoreError, PathEscapeError, type FileEntry, type FileStore, type WriteOptions } from '../store.ts';

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;

export class LocalFileStore implements FileStore {
  readonly description: string;

  private constructor(readonly root: string) {
    this.description = `local files in ${root}`;
  }

  /** The store rooted at `dir` (created if missing), by its real path. */
  static async open(dir: string): Promise<LocalFileStore> {
    await mkdir(dir, { recursive: true });
    return new LocalFileStore(await realpath(dir));
  }

  /**
   * The real absolute path for `rel`. `follow`: resolve a symbolic link at the last component too (read, write, stat);
   * otherwise the link itself is the target (delete, move), and only its directory is resolved.
   */
  async resolve(rel: string, follow: boolean): Promise<string> {
    const lexical = path.join(this.root, relativePath(rel));
    if (lexical === this.root) return this.root;
    const start = follow ? lexical : path.dirname(lexical);
    const rest: string[] = follow ? [] : [path.basename(lexical)];
    let probe = start;
    for (;;) {
      try {
        const real = await realpath(probe);
        if (!isInside(this.root, real)) throw new PathEscapeError(`"${rel}" leads outside ${this.root} through a symbolic link`);
        return path.join(real, ...rest);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
        if (probe === this.root) throw error;
        rest.unshift(path.basename(probe));
        probe = path.dirname(probe);
      }
    }
  }

  private entry(abs: string, stats: Stats): FileEntry {
    const rel = path.relative(this.root, abs).split(path.sep).join('/');
    return {
      path: rel,
      name: path.basename(abs),
      type: stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : 'other',
      size: stats.size,
      modified: stats.mtime.toISOString(),
    };
  }

  private fail(operation: string, rel: string, error: unknown): never {
    if (error instanceof PathEscapeError || error instanceof FileStoreError) throw error;
    throw new FileStoreError(this.description, operation, rel, error);
  }

  async stat(rel: string): Promise<FileEntry | undefined> {
    try {
      const abs = await this.resolve(rel, true);
      return this.entry(abs, await stat(abs));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      this.fail('stat', rel, error);
    }
  }

  async read(rel: string): Promise<{ stream: Readable; entry: FileEntry }> {
    try {
      const abs = await this.resolve(rel, true);
      const handle = await open(abs, constants.O_RDONLY | NOFOLLOW);
      const stats = await handle.stat().catch(async (error: unknown) => {
        await handle.close();
        throw error;
      });
      if (!stats.isFile()) {
        await handle.close();
        throw Object.assign(new Error('not a regular file'), { code: stats.isDirectory() ? 'EISDIR' : 'EINVAL' });
      }
      return { stream: createReadStream('', { fd: handle, highWaterMark: 256 * 1024 }), entry: this.entry(abs, stats) };
    } catch (error) {
      this.fail('read', rel, error);
    }
  }

  async write(rel: string, content: Readable, options: WriteOptions, signal: AbortSignal): Promise<FileEntry> {
    let temp: string | undefined;
    try {
      if (!relativePath(rel)) throw Object.assign(new Error('the root is a directory'), { code: 'EISDIR' });
      const abs = await this.resolve(rel, true);
      if (options.createDirs) {
        await mkdir(path.dirname(abs), { recursive: true });
        // mkdir may have met a link planted meanwhile: check the directory again.
        await this.resolve(path.relative(this.root, path.dirname(abs)), true);
      }
      const flags = constants.O_WRONLY | NOFOLLOW | constants.O_CREAT;
      let target = abs;
      let openFlags: number;
      if (options.mode === 'append') openFlags = flags | constants.O_APPEND;
      else if (options.mode === 'create') openFlags = flags | constants.O_EXCL;
      else {
        // Overwrite through a temporary file renamed over the target: readers see the old or the new file, never half.
        temp = path.join(path.dirname(abs), `.${path.basename(abs)}.${randomUUID()}.flowcrew-tmp`);
        target = temp;
        openFlags = flags | constants.O_EXCL;
      }
      const handle = await open(target, openFlags, 0o644);
      await pipeline(content, createWriteStream('', { fd: handle, highWaterMark: 256 * 1024 }), { signal });
      if (temp) {
        await rename(temp, abs);
        temp = undefined;
      }
      return this.entry(abs, await stat(abs));
    } catch (error) {
      if (temp) await unlink(temp).catch(() => undefined);
      this.fail(`write (${options.mode})`, rel, error);
    }
  }

  async *list(rel: string, options: { recursive: boolean }, signal: AbortSignal): AsyncIterable<FileEntry> {
    let abs: string;
    try {
      abs = await this.resolve(rel, true);
    } catch (error) {
      this.fail('list', rel, error);
    }
    const dirs = [abs];
    while (dirs.length > 0) {
      const dir = dirs.shift()!;
      let handle;
      try {
        handle = await opendir(dir, { bufferSize: 256 });
      } catch (error) {
        this.fail('list', path.relative(this.root, dir) || rel, error);
      }
      for await (const dirent of handle) {
        if (signal.aborted) throw signal.reason as Error;
        const child = path.join(dir, dirent.name);
        let stats: Stats;
        try {
          stats = await lstat(child);
        } catch {
          continue; // gone meanwhile
        }
        // Links are listed as links, never followed (a link to a directory outside would be an escape).
        if (options.recursive && stats.isDirectory()) dirs.push(child);
        yield this.entry(child, stats);
      }
    }
  }

  async delete(rel: string, options: { recursive: boolean }): Promise<boolean> {
    try {
      const abs = await this.resolve(rel, false);
      if (abs === this.root) throw new PathEscapeError('refusing to delete the root directory itself');
      const stats = await lstat(abs).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      if (!stats) return false;
      if (stats.isDirectory()) await (options.recursive ? rm(abs, { recursive: true }) : rmdir(abs));
      else await unlink(abs);
      return true;
    } catch (error) {
      this.fail('delete', rel, error);
    }
  }

  async move(fromRel: string, toRel: string, options: { overwrite: boolean; createDirs: boolean }): Promise<FileEntry> {
    try {
      const from = await this.resolve(fromRel, false);
      const to = await this.resolve(toRel, false);
      if (from === this.root || to === this.root) throw new PathEscapeError('refusing to move the root directory itself');
      await lstat(from);
      if (options.createDirs) await mkdir(path.dirname(to), { recursive: true });
      if (!options.overwrite && (await lstat(to).then(() => true, () => false))) throw Object.assign(new Error('target exists'), { code: 'EEXIST' });
      try {
        await rename(from, to);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EXDEV') throw error;
        // The root spans two file systems: copy, then remove the original.
        await copyFile(from, to, options.overwrite ? 0 : constants.COPYFILE_EXCL);
        await unlink(from);
      }
      return this.entry(to, await lstat(to));
    } catch (error) {
      this.fail(`move to "${toRel}"`, fromRel, error);
    }
  }
}
