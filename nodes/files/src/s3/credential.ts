/** The `s3` credential type: endpoint, region, keys, path-style; its test lists a bucket (or the buckets). */
import { defineCredentialType, type JsonSchema } from '@flowcrew/sdk';
import { FileStoreError } from '../store.ts';
import { describeS3, openS3, type S3Fields } from './connect.ts';
import { normaliseS3Error } from './store.ts';
import { loadS3 } from '../libs.ts';

export const s3CredentialSchema = {
  type: 'object',
  required: ['region', 'accessKeyId', 'secretAccessKey'],
  additionalProperties: false,
  properties: {
    endpoint: { title: 'Endpoint', type: 'string', format: 'uri', description: 'Empty for AWS S3. For S3-compatible servers (MinIO, Ceph, Versity, Wasabi...): their URL, e.g. https://s3.example.com. The outbound guard must allow it.' },
    region: { title: 'Region', type: 'string', minLength: 1, default: 'us-east-1' },
    accessKeyId: { title: 'Access key id', type: 'string', minLength: 1 },
    secretAccessKey: { title: 'Secret access key', type: 'string', minLength: 1, writeOnly: true, format: 'password' },
    sessionToken: { title: 'Session token', type: 'string', writeOnly: true, description: 'For temporary credentials (STS) only.' },
    forcePathStyle: { title: 'Path-style URLs', type: 'boolean', description: 'https://host/bucket/key instead of https://bucket.host/key. Default: on with a custom endpoint, off for AWS.' },
    bucket: { title: 'Default bucket', type: 'string', description: 'The bucket nodes use unless they name one.' },
    readOnly: { title: 'Read only', type: 'boolean', default: false, description: 'Refuse puts, deletes, moves and copies (and upload URLs).' },
    maxConnections: { title: 'Most connections', type: 'integer', minimum: 1, maximum: 1000, default: 50 },
  },
} as const satisfies JsonSchema;

export const s3Credential = defineCredentialType<S3Fields>({
  name: 's3',
  label: 'S3 / S3-compatible',
  description: 'Keys for AWS S3 or an S3-compatible object store. One client (with its connection pool) per credential is shared by every node using it.',
  schema: s3CredentialSchema,
  secret: ['secretAccessKey', 'sessionToken'],
  async test(fields, services, signal) {
    const { HeadBucketCommand, ListBucketsCommand } = await loadS3();
    const connection = await openS3(fields, services.outbound);
    try {
      if (fields.bucket) {
        await connection.client.send(new HeadBucketCommand({ Bucket: fields.bucket }), { abortSignal: signal });
        return { ok: true, message: `${describeS3(fields, fields.bucket)}: the bucket is reachable with these keys` };
      }
      const buckets = await connection.client.send(new ListBucketsCommand({}), { abortSignal: signal });
      return { ok: true, message: `${describeS3(fields)}: signed in, ${buckets.Buckets?.length ?? 0} buckets visible` };
    } catch (error) {
      return { ok: false, message: new FileStoreError(describeS3(fields, fields.bucket), 'connection test', undefined, normaliseS3Error(error)).message };
    } finally {
      connection.close();
    }
  },
});
