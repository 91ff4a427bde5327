/**
 * The pack's client libraries, imported on first use (see lazyImport in the SDK): importing the pack, which every
 * runtime start does, loads none of them. Elsewhere in the pack they are imported as types only.
 */
import { createRequire } from 'node:module';
import { lazyImport } from '@flowcrew/sdk';

export const loadPg = lazyImport('pg', async () => (await import('pg')).default);
export const loadPgCursor = lazyImport('pg-cursor', async () => (await import('pg-cursor')).default);
export const loadMysql = lazyImport('mysql2', async () => (await import('mysql2/promise')).default);
export const loadIoredis = lazyImport('ioredis', async () => (await import('ioredis')).Redis);
export const loadMongodb = lazyImport('mongodb', () => import('mongodb'));

const require = createRequire(import.meta.url);
/**
 * For the few synchronous uses (quoting identifiers, MongoDB Extended JSON): these libraries are CommonJS, so
 * `require` returns the very module instance `import()` gives.
 */
export const pgSync = (): typeof import('pg').default => require('pg');
export const mysqlSync = (): typeof import('mysql2/promise') => require('mysql2/promise');
export const mongodbSync = (): typeof import('mongodb') => require('mongodb');
