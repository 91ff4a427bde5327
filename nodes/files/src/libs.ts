/**
 * The pack's client libraries, imported on first use (see lazyImport in the SDK): importing the pack, which every
 * runtime start does, loads none of them. Elsewhere in the pack they are imported as types only.
 */
import { lazyImport } from '@flowcrew/sdk';

export const loadS3 = lazyImport('@aws-sdk/client-s3', () => import('@aws-sdk/client-s3'));
export const loadS3Upload = lazyImport('@aws-sdk/lib-storage', async () => (await import('@aws-sdk/lib-storage')).Upload);
export const loadS3Presigner = lazyImport('@aws-sdk/s3-request-presigner', async () => (await import('@aws-sdk/s3-request-presigner')).getSignedUrl);
export const loadNodeHttpHandler = lazyImport('@smithy/node-http-handler', async () => (await import('@smithy/node-http-handler')).NodeHttpHandler);
export const loadSftp = lazyImport('ssh2-sftp-client', async () => (await import('ssh2-sftp-client')).default);
export const loadChokidar = lazyImport('chokidar', () => import('chokidar'));
