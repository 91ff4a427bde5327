/**
 * Implementations of the services a host gives nodes that need nothing of the runtime: the runtime uses them, and
 * so does the test harness, so a pack's tests run against the same behaviour as production.
 */
export { ResourcePools, ResourceScope, type ResourcePoolsOptions, type ResourceInfo } from './resource-pools.ts';
export { FileBlobStore, BlobTooLargeError, type BlobGcResult } from './file-blob-store.ts';
export { LiveCredential } from './live-credential.ts';
