/** The S3 node: get, put (multipart for large content), list (paged), delete, copy, move, stat, presigned URLs. */
import { defineNode, getProperty, NodeInputError, type FlowMessage, type InputContext, type NodeCredential } from '@flowcrew/sdk';
import { describeOperation, fileOperationConditions, fileOperationProperties, fileOperationsHelp, runFileOperation, withDefaults, type FileProps } from '../operations.ts';
import { relativePath } from '../paths.ts';
import { FileStoreError, PathEscapeError } from '../store.ts';
import { describeS3, s3Handle, type S3Fields } from './connect.ts';
import { s3Credential } from './credential.ts';
import { S3FileStore } from './store.ts';

export interface S3Props extends Omit<FileProps, 'operation'> {
  operation: FileProps['operation'] | 'copy' | 'presign';
  bucket?: string;
  fromBucket?: string;
  method: 'GET' | 'PUT';
  expiresInSeconds: number;
  contentType?: string;
  partSizeMb: number;
}

const properties = {
  ...fileOperationProperties,
  operation: {
    title: 'Operation',
    enum: ['read', 'write', 'list', 'delete', 'move', 'copy', 'stat', 'presign'],
    default: 'read',
    description: 'read (get) an object, write (put) one, list keys under a prefix, delete, move, copy (server-side), stat (head; null when missing), or presign a URL.',
  },
  path: { title: 'Key', type: 'string', description: 'The object key (or, for list, the prefix as a directory: reports/2026). Empty: msg.filename.' },
  mode: { title: 'Put mode', enum: ['overwrite', 'create'], default: 'overwrite', description: 'overwrite: replace the object. create: fail if it exists (a conditional put).' },
  bucket: { title: 'Bucket', type: 'string', description: 'Empty: the credential\'s default bucket.' },
  fromBucket: { title: 'Copy from bucket', type: 'string', description: 'Copy: the source bucket, when it is not the node\'s.' },
  method: { title: 'URL for', enum: ['GET', 'PUT'], default: 'GET', description: 'Presign: GET lets the holder download the object, PUT upload it.' },
  expiresInSeconds: { title: 'URL valid for (s)', type: 'integer', minimum: 1, maximum: 604_800, default: 3600 },
  contentType: { title: 'Content type', type: 'string', description: 'Put and presigned PUT: the object\'s Content-Type.' },
  partSizeMb: { title: 'Part size (MB)', type: 'integer', minimum: 5, maximum: 512, default: 8, description: 'Put: content larger than this (or of unknown size, e.g. a blob stream) is uploaded in parts of this size, 4 at a time.' },
} as const;

const help = `# S3

Objects in AWS S3 or an S3-compatible store (MinIO, Ceph, Versity, Wasabi...), with an **s3** credential (endpoint,
region, keys, path-style). Keys are paths; "directories" are key prefixes.

${fileOperationsHelp
  .replace('- **read**:', '- **read** (get):')
  .replace('- **write**:', '- **write** (put):')
  .replace('Modes: overwrite, append, create (fails if the file exists). Missing directories are created.', 'Large or blob content is uploaded in parts (multipart). S3 has no append.')}
- **copy**: server-side copy to \`to\` (from \`fromBucket\` if given), up to 5 GB. **move** = copy, then delete.
- **presign**: \`msg.payload\` is a URL that lets whoever holds it GET or PUT the object until it expires.`;

const WRITES = new Set(['write', 'delete', 'move', 'copy']);

export const s3Node = defineNode<S3Props>({
  type: 's3',
  category: 'connector',
  label: 'S3',
  icon: 'cloud_upload',
  color: '#e25444',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    additionalProperties: false,
    properties,
    allOf: [
      ...fileOperationConditions,
      { if: { properties: { operation: { const: 'copy' } }, required: ['operation'] }, then: { properties: { to: {}, overwrite: {}, fromBucket: {} } } },
      { if: { properties: { operation: { const: 'presign' } }, required: ['operation'] }, then: { properties: { method: {}, expiresInSeconds: {}, contentType: {} } } },
    ],
  },
  credentials: { type: s3Credential.name, schema: s3Credential.schema, required: true },
  help,
  usableAsTool: true,
  create(init) {
    const credential = init.credential as NodeCredential<S3Fields> | undefined;
    if (!credential) throw new Error('the S3 node needs an s3 credential');
    const p = withDefaults<S3Props>(properties, init.props);
    const pool = s3Handle(init.services, credential);
    return {
      async onInput(msg: FlowMessage, ctx: InputContext) {
        const fields = credential.fields;
        const bucket = p.bucket || fields.bucket;
        const server = describeS3(fields, bucket);
        const { operation, path } = describeOperation(p as FileProps, msg);
        try {
          if (!bucket) throw new NodeInputError(`${server}: no bucket: set the node's bucket or the credential's default bucket`);
          const writes = WRITES.has(p.operation) || (p.operation === 'presign' && p.method === 'PUT');
          if (fields.readOnly && writes) throw new NodeInputError(`${server}: ${operation} refused: the credential "${credential.id}" is read only`);
          return await pool.use(async ({ client }) => {
            const store = new S3FileStore(client, bucket, server, p.partSizeMb * 1024 * 1024);
            if (p.operation === 'copy' || p.operation === 'presign') {
              const key = keyOf(p.path, msg, 'filename');
              if (p.operation === 'presign') return { ...msg, payload: await store.presign(key, p.method, p.expiresInSeconds, p.contentType), filename: key };
              const to = keyOf(p.to, msg, 'to');
              const entry = await store.copy(key, to, { overwrite: p.overwrite, fromBucket: p.fromBucket }, ctx.signal);
              return { ...msg, payload: entry, file: entry, filename: to };
            }
            return runFileOperation(store, p as FileProps, msg, ctx, init.services);
          });
        } catch (error) {
          if (error instanceof PathEscapeError) throw new NodeInputError(`${server}: ${operation}${path !== undefined ? ` "${path}"` : ''} refused: ${error.message}`);
          if (error instanceof FileStoreError || error instanceof NodeInputError) throw error;
          throw new FileStoreError(server, operation, path, error);
        }
      },
      close() {
        pool.release();
      },
    };
  },
});

function keyOf(given: string | undefined, msg: FlowMessage, fallback: string): string {
  const raw = given || getProperty(msg, fallback);
  if (typeof raw !== 'string') throw new NodeInputError(`no key: set the node's ${fallback === 'to' ? 'target' : 'key'} or msg.${fallback}`);
  return relativePath(raw);
}
