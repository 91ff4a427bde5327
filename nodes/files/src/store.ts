/**
 * One interface for every file backend (local directory, SFTP, S3): the file node and the polling trigger are
 * written once against it, each backend implements it in its own folder.
 */
import type { Readable } from 'node:stream';

export interface FileEntry {
  /** Path as the user names it (relative to the store's root, '/'-separated). */
  path: string;
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'other';
  size: number;
  /** ISO 8601. */
  modified: string;
}

export type WriteMode = 'overwrite' | 'append' | 'create';

export interface WriteOptions {
  mode: WriteMode;
  /** Create missing parent directories. */
  createDirs: boolean;
  /** Size of the content when known (S3 uploads a small body in one request). */
  size?: number;
  contentType?: string;
}

export interface FileStore {
  /** Names the store in messages: 'local files in /srv/files', 'SFTP ada@host:22'. Never a secret. */
  readonly description: string;
  stat(path: string, signal: AbortSignal): Promise<FileEntry | undefined>;
  /** The file's content as a stream (never read whole), with its entry. */
  read(path: string, signal: AbortSignal): Promise<{ stream: Readable; entry: FileEntry }>;
  write(path: string, content: Readable, options: WriteOptions, signal: AbortSignal): Promise<FileEntry>;
  /** The entries under `dir`, read as they are needed. */
  list(dir: string, options: { recursive: boolean }, signal: AbortSignal): AsyncIterable<FileEntry>;
  /** Returns false when there was nothing to delete. */
  delete(path: string, options: { recursive: boolean }, signal: AbortSignal): Promise<boolean>;
  move(from: string, to: string, options: { overwrite: boolean; createDirs: boolean }, signal: AbortSignal): Promise<FileEntry>;
}

const MESSAGES: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EEXIST: 'it already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ENOTEMPTY: 'the directory is not empty',
  ELOOP: 'it is a symbolic link (not followed)',
  ENOSPC: 'no space left on the device',
  EXDEV: 'source and destination are on different devices',
};

/** Connection-level failures: the same operation may work on another try. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ERR_NOT_CONNECTED', 'ERR_GENERIC_CLIENT']);

/**
 * A failed file operation, naming the store (host), the operation, the path and what the system or server said.
 * Missing files, existing targets, permissions and escapes are not retried; lost connections are.
 */
export class FileStoreError extends Error {
  readonly retryable: boolean;
  readonly code: string | undefined;

  constructor(store: string, operation: string, path: string | undefined, cause: unknown, retryable?: boolean) {
    const e = cause as { code?: string | number; message?: string; retryable?: boolean } | undefined;
    const code = typeof e?.code === 'string' ? e.code : undefined;
    const said = (code && MESSAGES[code]) || e?.message || String(cause);
    super(`${store}: ${operation}${path !== undefined ? ` "${path}"` : ''} failed: ${said}${code && MESSAGES[code] ? ` (${code})` : ''}`);
    this.name = 'FileStoreError';
    this.code = code;
    this.retryable = retryable ?? (typeof e?.retryable === 'boolean' ? e.retryable : code !== undefined && RETRYABLE.has(code));
  }
}

/** A path that would leave the store's root: refused, never retried. */
export class PathEscapeError extends Error {
  readonly retryable = false;
  readonly code = 'EPATHESCAPE';
  constructor(message: string) {
    super(message);
    this.name = 'PathEscapeError';
  }
}
