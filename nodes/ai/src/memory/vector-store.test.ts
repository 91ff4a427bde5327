import { describe, expect, it } from 'vitest';
import type { RuntimeDatabase } from '@flowcrew/sdk';
import { resolveStoreLocation, vectorStoreKey } from './vector-store.ts';

const sqlite: RuntimeDatabase = { dialect: 'sqlite' };
const runtime = (dataDir: string, database: RuntimeDatabase = sqlite) => ({ dataDir, database });

describe('where the vector store lives', () => {
  it('puts the embedded store in <dataDir>/ai/vectors.db of the runtime, or in memory for a throwaway runtime', () => {
    expect(resolveStoreLocation('auto', runtime('/srv/flowcrew'), {})).toEqual({ kind: 'sqlite', path: '/srv/flowcrew/ai/vectors.db' });
    expect(resolveStoreLocation('sqlite', runtime(':memory:'), {})).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('takes no fallback from FLOWCREW_DATA_DIR: the runtime says where its data is', () => {
    expect(resolveStoreLocation('auto', runtime('/srv/flowcrew'), { FLOWCREW_DATA_DIR: '/elsewhere' })).toEqual({ kind: 'sqlite', path: '/srv/flowcrew/ai/vectors.db' });
    expect(resolveStoreLocation('auto', runtime(':memory:'), { FLOWCREW_DATA_DIR: '/elsewhere' })).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('honours an explicit FLOWCREW_VECTOR_SQLITE_PATH', () => {
    expect(resolveStoreLocation('sqlite', runtime(':memory:'), { FLOWCREW_VECTOR_SQLITE_PATH: '/data/vectors.sqlite' })).toEqual({ kind: 'sqlite', path: '/data/vectors.sqlite' });
  });

  it('follows a runtime on PostgreSQL (as the runtime reports it, not DATABASE_URL read by the pack), and says what to set when postgres is asked for without a database', () => {
    const onPostgres = runtime('/srv/flowcrew', { dialect: 'postgres', url: 'postgres://db/flowcrew' });
    expect(resolveStoreLocation('auto', onPostgres, {})).toEqual({ kind: 'postgres', url: 'postgres://db/flowcrew' });
    expect(resolveStoreLocation('sqlite', onPostgres, {})).toEqual({ kind: 'sqlite', path: '/srv/flowcrew/ai/vectors.db' });
    expect(resolveStoreLocation('auto', runtime('/srv/flowcrew'), { DATABASE_URL: 'postgres://db/flowcrew' })).toEqual({ kind: 'sqlite', path: '/srv/flowcrew/ai/vectors.db' });
    expect(resolveStoreLocation('auto', runtime('/srv/flowcrew'), { FLOWCREW_VECTOR_DATABASE_URL: 'postgres://vectors/db' })).toEqual({ kind: 'postgres', url: 'postgres://vectors/db' });
    expect(() => resolveStoreLocation('postgres', runtime('/srv/flowcrew'), {})).toThrow(
      'vector store "postgres" needs FLOWCREW_VECTOR_DATABASE_URL or a runtime running on PostgreSQL (DATABASE_URL): set one, or set store to auto or sqlite',
    );
  });

  it('keys a PostgreSQL store by a hash of its URL: the password is never part of a resource key', () => {
    const key = vectorStoreKey({ kind: 'postgres', url: 'postgres://app:s3cret-pw@db/flowcrew' });
    expect(key).toMatch(/^ai:vectors:postgres:[0-9a-f]{32}$/);
    expect(key).not.toContain('s3cret-pw');
  });
});
