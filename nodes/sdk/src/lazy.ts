import { createRequire } from 'node:module';

/**
 * Client libraries loaded on first use. The runtime imports every pack's module at start (and so does every test
 * that starts a runtime), but a flow uses few of a pack's clients: a connector imports its client library (a
 * database driver, a broker client, a cloud SDK) inside `open`/first use through one of these, and only its types
 * at the top (`import type`).
 *
 *   export const loadPg = lazyImport('pg', async () => (await import('pg')).default);
 *   const pg = await loadPg();
 */
export function lazyImport<T>(library: string, load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined; // a library installed meanwhile is found on the next use
      throw new Error(`the client library "${library}" could not be loaded: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }));
}

/**
 * The synchronous counterpart, for CommonJS libraries used from synchronous code (a parser inside an expression, a
 * connector's identifier quoting): `require` from the calling module's own location, so the library resolves from the
 * caller's package as an `import` there would, and returns the very module instance `import()` gives.
 *
 *   export const jsYaml = lazyRequire<typeof import('js-yaml')>('js-yaml', import.meta.url);
 *   jsYaml().load(text);
 */
export function lazyRequire<T>(library: string, from: string): () => T {
  let loaded: { module: T } | undefined;
  return () => {
    if (loaded) return loaded.module;
    try {
      loaded = { module: createRequire(from)(library) as T };
    } catch (error) {
      throw new Error(`the client library "${library}" could not be loaded: ${(error as Error)?.message ?? String(error)}`, { cause: error });
    }
    return loaded.module;
  };
}
