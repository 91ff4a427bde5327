import { describe, expect, it } from 'vitest';
import { resolveStoreLocation } from './vector-store.ts';

describe('where the vector store lives', () => {
  it('puts the embedded store in <dataDir>/ai/vectors.db of the runtime, or in memory for a throwaway runtime', () => {
    expect(resolveStoreLocation('auto', '/srv/flowcrew', {})).toEqual({ kind: 'sqlite', path: '/srv/flowcrew/ai/vectors.db' });
    expect(resolveStoreLocation('sqlite', ':memory:', {})).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('takes no fallback from FLOWCREW_DATA_DIR: the runtime says where its data is', () => {
    expect(resolveStoreLocation('auto', '/srv/flowcrew', { FLOWCREW_DATA_DIR: '/elsewhere' })).toEqual({ kind: 'sqlite', path: '/srv/flowcrew/ai/vectors.db' });
    expect(resolveStoreLocation('auto', ':memory:', { FLOWCREW_DATA_DIR: '/elsewhere' })).toEqual({ kind: 'sqlite', path: ':memory:' });
  });

  it('honours an explicit FLOWCREW_VECTOR_SQLITE_PATH', () => {
    expect(resolveStoreLocation('sqlite', ':memory:', { FLOWCREW_VECTOR_SQLITE_PATH: '/data/vectors.sqlite' })).toEqual({ kind: 'sqlite', path: '/data/vectors.sqlite' });
  });

  it('follows a runtime on PostgreSQL, and says what to set when postgres is asked for without a database', () => {
    expect(resolveStoreLocation('auto', '/srv/flowcrew', { DATABASE_URL: 'postgres://db/flowcrew' })).toEqual({ kind: 'postgres', url: 'postgres://db/flowcrew' });
    expect(resolveStoreLocation('sqlite', '/srv/flowcrew', { DATABASE_URL: 'postgres://db/flowcrew' })).toEqual({ kind: 'sqlite', path: '/srv/flowcrew/ai/vectors.db' });
    expect(() => resolveStoreLocation('postgres', '/srv/flowcrew', {})).toThrow(
      'vector store "postgres" needs FLOWCREW_VECTOR_DATABASE_URL or a postgres DATABASE_URL: set one, or set store to auto or sqlite',
    );
  });
});
