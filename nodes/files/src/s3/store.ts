/**
 * A FileStore over an S3 bucket: keys are paths, "directories" are key prefixes. Objects stream both ways; uploads of
 * unknown or large size go in parts (lib-storage). S3 has no append: that mode is refused with the reason.
 */
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { NodeInputError } from '@flowcrew/sdk';
import { relativePath } from '../paths.ts';
import { FileStoreError, type FileEntry, type FileStore, type WriteOptions } from '../store.ts';
import { loadS3, loadS3Presigner, loadS3Upload } from '../libs.ts';

const NOT_FOUND = new Set(['NotFound', 'NoSuchKey', 'NoSuchBucket']);

/** The S3 error as the pack's codes: what S3 said stays in the message. */
export function normaliseS3Error(error: unknown): unknown {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name && status !== undefined) {
    const said = e.message && e.message !== 'UnknownError' && e.message !== e.name ? `${e.name}: ${e.message}` : `${e.name} (HTTP ${status})`;
    const code = NOT_FOUND.has(e.name) ? 'S3_NOT_FOUND' : e.name === 'PreconditionFailed' ? 'EEXIST' : undefined;
    return Object.assign(new Error(said), { code, retryable: status >= 500 || status === 429 || e.name === 'SlowDown' });
  }
  return error;
}

export const isNotFound = (error: unknown): boolean => {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  return NOT_FOUND.has(e?.name ?? '') || e?.$metadata?.httpStatusCode === 404;
};

export class S3FileStore implements FileStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly description: string,
    private readonly partSize = 8 * 1024 * 1024,
    /** Keys per list request (S3's most is 1,000). */
    private readonly listPageSize = 1000,
  ) {}

  key(rel: string): string {
    const key = relativePath(rel);
    if (!key) throw new NodeInputError('an object key is needed (the path is empty)');
    return key;
  }

  private fail(operation: string, rel: string, error: unknown): never {
    if (error instanceof NodeInputError) throw error;
    throw new FileStoreError(this.description, operation, rel, normaliseS3Error(error));
  }

  private entry(key: string, size: number | undefined, modified: Date | undefined): FileEntry {
    return { path: key, name: path.posix.basename(key), type: 'file', size: Number(size ?? 0), modified: (modified ?? new Date(0)).toISOString() };
  }

  async stat(rel: string, signal: AbortSignal): Promise<FileEntry | undefined> {
    const s3 = await loadS3();
    try {
      const key = this.key(rel);
      const head = await this.client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return this.entry(key, head.ContentLength, head.LastModified);
    } catch (error) {
      if (isNotFound(error) && (error as { name?: string }).name !== 'NoSuchBucket') return undefined;
      this.fail('stat', rel, error);
    }
  }

  async read(rel: string, signal: AbortSignal): Promise<{ stream: Readable; entry: FileEntry }> {
    const s3 = await loadS3();
    try {
      const key = this.key(rel);
      const got = await this.client.send(new s3.GetObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return { stream: got.Body as Readable, entry: this.entry(key, got.ContentLength, got.LastModified) };
    } catch (error) {
      this.fail('get', rel, error);
    }
  }

  async write(rel: string, content: Readable, options: WriteOptions, signal: AbortSignal): Promise<FileEntry> {
    const s3 = await loadS3();
    try {
      const key = this.key(rel);
      if (options.mode === 'append') throw new NodeInputError(`${this.description}: put "${rel}" refused: S3 objects cannot be appended to (use overwrite or create)`);
      const params = { Bucket: this.bucket, Key: key, Body: content, ...(options.contentType ? { ContentType: options.contentType } : {}), ...(options.mode === 'create' ? { IfNoneMatch: '*' } : {}) };
      if (options.size !== undefined && options.size <= this.partSize) {
        // Small and of known size: one request (what lib-storage would do too, without buffering a part).
        await this.client.send(new s3.PutObjectCommand({ ...params, ContentLength: options.size }), { abortSignal: signal });
      } else {
        const upload = new (await loadS3Upload())({ client: this.client, params, partSize: this.partSize, queueSize: 4, leavePartsOnError: false });
        const onAbort = () => void upload.abort().catch(() => undefined);
        signal.addEventListener('abort', onAbort, { once: true });
        try {
          await upload.done();
        } finally {
          signal.removeEventListener('abort', onAbort);
        }
      }
      const head = await this.client.send(new s3.HeadObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
      return this.entry(key, head.ContentLength, head.LastModified);
    } catch (error) {
      this.fail(`put (${options.mode})`, rel, error);
    }
  }

  async *list(rel: string, options: { recursive: boolean }, signal: AbortSignal): AsyncIterable<FileEntry> {
    const s3 = await loadS3();
    const dir = relativePath(rel);
    const prefix = dir ? `${dir}/` : '';
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new s3.ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: this.listPageSize, ...(options.recursive ? {} : { Delimiter: '/' }) }), { abortSignal: signal });
      } catch (error) {
        this.fail('list', dir || '/', error);
      }
      for (const common of page.CommonPrefixes ?? []) {
        const p = common.Prefix!.replace(/\/$/, '');
        yield { path: p, name: path.posix.basename(p), type: 'directory', size: 0, modified: new Date(0).toISOString() };
      }
      for (const object of page.Contents ?? []) yield this.entry(object.Key!, object.Size, object.LastModified);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(rel: string, options: { recursive: boolean }, signal: AbortSignal): Promise<boolean> {
    const s3 = await loadS3();
    try {
      const key = this.key(rel);
      let deleted = false;
      if (options.recursive) {
        // Everything under key/ in batches of 1,000 (one request each), as the listing comes.
        let batch: string[] = [];
        const flush = async () => {
          const result = await this.client.send(new s3.DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }), { abortSignal: signal });
          if (result.Errors?.length) throw new Error(`${result.Errors.length} objects not deleted, e.g. ${result.Errors[0]!.Key}: ${result.Errors[0]!.Code} ${result.Errors[0]!.Message ?? ''}`);
          deleted = true;
          batch = [];
        };
        for await (const entry of this.list(key, { recursive: true }, signal)) {
          batch.push(entry.path);
          if (batch.length === 1000) await flush();
        }
        if (batch.length) await flush();
      }
      if (await this.stat(key, signal)) {
        await this.client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: key }), { abortSignal: signal });
        deleted = true;
      }
      return deleted;
    } catch (error) {
      if (error instanceof FileStoreError) throw error;
      this.fail('delete', rel, error);
    }
  }

  /** Server-side copy (up to 5 GB, S3's limit for one CopyObject), optionally from another bucket. */
  async copy(fromRel: string, toRel: string, options: { overwrite: boolean; fromBucket?: string }, signal: AbortSignal): Promise<FileEntry> {
    const s3 = await loadS3();
    try {
      const from = this.key(fromRel);
      const to = this.key(toRel);
      if (!options.overwrite && (await this.stat(to, signal))) throw Object.assign(new Error('target exists'), { code: 'EEXIST' });
      const source = `${options.fromBucket ?? this.bucket}/${from.split('/').map(encodeURIComponent).join('/')}`;
      await this.client.send(new s3.CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: source }), { abortSignal: signal });
      return (await this.stat(to, signal))!;
    } catch (error) {
      if (error instanceof FileStoreError) throw error;
      this.fail(`copy to "${toRel}"`, fromRel, error);
    }
  }

  async move(fromRel: string, toRel: string, options: { overwrite: boolean }, signal: AbortSignal): Promise<FileEntry> {
    const s3 = await loadS3();
    const entry = await this.copy(fromRel, toRel, options, signal);
    try {
      await this.client.send(new s3.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(fromRel) }), { abortSignal: signal });
    } catch (error) {
      this.fail(`move to "${toRel}" (copied, but the original was not deleted)`, fromRel, error);
    }
    return entry;
  }

  /** A URL anyone holding it can GET (download) or PUT (upload) the object with, until it expires. No request is made. */
  async presign(rel: string, method: 'GET' | 'PUT', expiresIn: number, contentType?: string): Promise<string> {
    const s3 = await loadS3();
    const key = this.key(rel);
    const command = method === 'PUT' ? new s3.PutObjectCommand({ Bucket: this.bucket, Key: key, ...(contentType ? { ContentType: contentType } : {}) }) : new s3.GetObjectCommand({ Bucket: this.bucket, Key: key });
    return (await loadS3Presigner())(this.client, command, { expiresIn });
  }
}
