/** A FileStore over one SFTP connection: paths relative to the credential's root, content streamed both ways. */
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomUUID } from 'node:crypto';
import type SftpClient from 'ssh2-sftp-client';
import { relativePath, underRoot } from '../paths.ts';
import { FileStoreError, type FileEntry, type FileStore, type WriteOptions } from '../store.ts';

/** SFTP status codes (draft-ietf-secsh-filexfer) as the errno names the rest of the pack uses. */
const STATUS: Record<number, string> = { 2: 'ENOENT', 3: 'EACCES', 11: 'EEXIST' };

function normalise(error: unknown): unknown {
  const e = error as { code?: unknown; message?: string };
  if (typeof e?.code === 'number' && STATUS[e.code]) return Object.assign(new Error(e.message), { code: STATUS[e.code] });
  if (typeof e?.message === 'string' && /No such file/i.test(e.message)) return Object.assign(new Error(e.message), { code: 'ENOENT' });
  return error;
}

type Stats = { mode: number; size: number; mtime?: number; modifyTime?: number; isDirectory?: boolean | (() => boolean); isFile?: boolean | (() => boolean); isSymbolicLink?: boolean | (() => boolean) };

const S_IFMT = 0o170000;
function typeOf(mode: number): FileEntry['type'] {
  const t = mode & S_IFMT;
  return t === 0o100000 ? 'file' : t === 0o040000 ? 'directory' : t === 0o120000 ? 'symlink' : 'other';
}

export class SftpFileStore implements FileStore {
  constructor(
    private readonly client: SftpClient,
    readonly description: string,
    private readonly root: string,
  ) {}

  private remote(rel: string): string {
    return underRoot(this.root, relativePath(rel));
  }

  private entry(rel: string, stats: Stats): FileEntry {
    const modifiedMs = stats.modifyTime ?? (stats.mtime ?? 0) * 1000;
    return { path: relativePath(rel), name: path.posix.basename(relativePath(rel)) || '/', type: typeOf(stats.mode), size: Number(stats.size), modified: new Date(modifiedMs).toISOString() };
  }

  private fail(operation: string, rel: string, error: unknown): never {
    throw new FileStoreError(this.description, operation, rel, normalise(error));
  }

  private async lstat(remote: string): Promise<Stats | undefined> {
    try {
      return (await (this.client as unknown as { lstat(p: string): Promise<Stats> }).lstat(remote)) as Stats;
    } catch (error) {
      if ((normalise(error) as { code?: string }).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async stat(rel: string): Promise<FileEntry | undefined> {
    try {
      const stats = (await this.client.stat(this.remote(rel)).catch((error: unknown) => {
        if ((normalise(error) as { code?: string }).code === 'ENOENT') return undefined;
        throw error;
      })) as Stats | undefined;
      return stats && this.entry(rel, stats);
    } catch (error) {
      this.fail('stat', rel, error);
    }
  }

  async read(rel: string): Promise<{ stream: Readable; entry: FileEntry }> {
    try {
      const stats = (await this.client.stat(this.remote(rel))) as unknown as Stats;
      const entry = this.entry(rel, stats);
      if (entry.type !== 'file') throw Object.assign(new Error('not a regular file'), { code: entry.type === 'directory' ? 'EISDIR' : 'EINVAL' });
      const stream = this.client.createReadStream(this.remote(rel), { highWaterMark: 256 * 1024 }) as unknown as Readable;
      // Closing the remote handle after the consumer is done can fail when the connection ends first: heard, not fatal.
      stream.on('error', () => undefined);
      return { stream, entry };
    } catch (error) {
      this.fail('read', rel, error);
    }
  }

  async write(rel: string, content: Readable, options: WriteOptions, signal: AbortSignal): Promise<FileEntry> {
    const target = this.remote(rel);
    let temp: string | undefined;
    try {
      if (!relativePath(rel)) throw Object.assign(new Error('the root is a directory'), { code: 'EISDIR' });
      const dir = path.posix.dirname(target);
      if (options.createDirs && dir !== '.' && !(await this.client.exists(dir))) await this.client.mkdir(dir, true);
      let file = target;
      let flags = 'w';
      if (options.mode === 'append') flags = 'a';
      else if (options.mode === 'create') flags = 'wx';
      else {
        // Overwrite through a temporary file and posix-rename: readers see the old or the new file, never half.
        temp = path.posix.join(dir, `.${path.posix.basename(target)}.${randomUUID()}.flowcrew-tmp`);
        file = temp;
        flags = 'wx';
      }
      if (flags === 'wx' && file === target && (await this.lstat(target))) throw Object.assign(new Error('it exists'), { code: 'EEXIST' });
      const out = this.client.createWriteStream(file, { flags, highWaterMark: 256 * 1024 } as never) as unknown as NodeJS.WritableStream;
      out.on('error', () => undefined); // pipeline reports it; this keeps a late one (handle close) from being unheard
      // ssh2 closes the remote handle after 'finish'; 'close' is when the server has the whole file.
      const closed = new Promise<void>((resolve) => (out as unknown as Readable).once('close', () => resolve()));
      await pipeline(content, out, { signal });
      await closed;
      if (temp) {
        await this.client.posixRename(temp, target);
        temp = undefined;
      }
      return this.entry(rel, (await this.client.stat(target)) as unknown as Stats);
    } catch (error) {
      if (temp) await this.client.delete(temp, true).catch(() => undefined);
      this.fail(`write (${options.mode})`, rel, error);
    }
  }

  async *list(rel: string, options: { recursive: boolean }, signal: AbortSignal): AsyncIterable<FileEntry> {
    const dirs = [relativePath(rel)];
    while (dirs.length > 0) {
      const dir = dirs.shift()!;
      let items: SftpClient.FileInfo[];
      try {
        items = await this.client.list(underRoot(this.root, dir));
      } catch (error) {
        this.fail('list', dir || '/', error);
      }
      for (const item of items) {
        if (signal.aborted) throw signal.reason as Error;
        const childRel = dir ? `${dir}/${item.name}` : item.name;
        const type: FileEntry['type'] = item.type === '-' ? 'file' : item.type === 'd' ? 'directory' : item.type === 'l' ? 'symlink' : 'other';
        if (options.recursive && type === 'directory') dirs.push(childRel);
        yield { path: childRel, name: item.name, type, size: Number(item.size), modified: new Date(item.modifyTime).toISOString() };
      }
    }
  }

  async delete(rel: string, options: { recursive: boolean }): Promise<boolean> {
    try {
      const remote = this.remote(rel);
      const stats = await this.lstat(remote);
      if (!stats) return false;
      if (typeOf(stats.mode) === 'directory') {
        if (!options.recursive && (await this.client.list(remote)).length > 0) throw Object.assign(new Error('not empty'), { code: 'ENOTEMPTY' });
        await this.client.rmdir(remote, options.recursive);
      } else await this.client.delete(remote);
      return true;
    } catch (error) {
      this.fail('delete', rel, error);
    }
  }

  async move(fromRel: string, toRel: string, options: { overwrite: boolean; createDirs: boolean }): Promise<FileEntry> {
    try {
      const from = this.remote(fromRel);
      const to = this.remote(toRel);
      if (!(await this.lstat(from))) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      const dir = path.posix.dirname(to);
      if (options.createDirs && dir !== '.' && !(await this.client.exists(dir))) await this.client.mkdir(dir, true);
      if (options.overwrite) await this.client.posixRename(from, to);
      else {
        if (await this.lstat(to)) throw Object.assign(new Error('target exists'), { code: 'EEXIST' });
        // Plain SFTP rename refuses an existing target itself (no race with another writer).
        await this.client.rename(from, to);
      }
      return this.entry(toRel, (await (this.client as unknown as { lstat(p: string): Promise<Stats> }).lstat(to)) as Stats);
    } catch (error) {
      this.fail(`move to "${toRel}"`, fromRel, error);
    }
  }
}
