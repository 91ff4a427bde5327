/**
 * The pack's client libraries, imported on first use (see lazyImport in the SDK): importing the pack, which every
 * runtime start does, loads none of them. Elsewhere in the pack they are imported as types only.
 */
import { lazyImport, lazyRequire } from '@flowcrew/sdk';

export const loadPg = lazyImport('pg', async () => (await import('pg')).default);
export const loadPgCursor = lazyImport('pg-cursor', async () => (await import('pg-cursor')).default);
export const loadMysql = lazyImport('mysql2', async () => (await import('mysql2/promise')).default);
export const loadIoredis = lazyImport('ioredis', async () => (await import('ioredis')).Redis);
export const loadMongodb = lazyImport('mongodb', () => import('mongodb'));

/**
 * For the few synchronous uses (quoting identifiers, MongoDB Extended JSON): these libraries are CommonJS, so
 * `require` returns the very module instance `import()` gives.
 */
export const pgSync = lazyRequire<typeof import('pg').default>('pg', import.meta.url);
export const mysqlSync = lazyRequire<typeof import('mysql2/promise')>('mysql2/promise', import.meta.url);
export const mongodbSync = lazyRequire<typeof import('mongodb')>('mongodb', import.meta.url);
