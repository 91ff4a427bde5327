/** Test support for the S3 node: the real S3-compatible server `scripts/services s3` starts (versitygw, posix backend). */
import { execFileSync } from 'node:child_process';
import type { S3Fields } from './connect.ts';

export const S3_PORT = Number(process.env.FLOWCREW_S3_PORT ?? 7070);
export const S3_ENDPOINT = `http://127.0.0.1:${S3_PORT}`;

export function s3TestFields(overrides: Partial<S3Fields> = {}): S3Fields {
  return { endpoint: S3_ENDPOINT, region: 'us-east-1', accessKeyId: 'flowcrew', secretAccessKey: 'flowcrew-s3-secret', forcePathStyle: true, ...overrides };
}

/** Established TCP connections from this machine to the S3 server right now. */
export function s3Connections(): number {
  const out = execFileSync('ss', ['-Htn', 'state', 'established', `( dport = :${S3_PORT} )`], { encoding: 'utf8' });
  return out.split('\n').filter((line) => line.trim()).length;
}
