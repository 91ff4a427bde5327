import { describe, expect, it } from 'vitest';
import { lazyImport, lazyRequire } from './lazy.ts';

describe('lazyRequire', () => {
  it('loads a CommonJS library on the first call, from the caller\'s location, as the instance import() gives', async () => {
    const jsonata = lazyRequire<typeof import('jsonata')>('jsonata', import.meta.url);
    const first = jsonata();
    expect(first).toBe(jsonata());
    expect(first).toBe((await import('jsonata')).default);
    expect(await first('a + 1').evaluate({ a: 41 })).toBe(42);
  });

  it('names the library when it is missing, and looks again on the next call', () => {
    const missing = lazyRequire('flowcrew-no-such-library', import.meta.url);
    expect(missing).toThrow(/the client library "flowcrew-no-such-library" could not be loaded: Cannot find module/);
    expect(missing).toThrow(/flowcrew-no-such-library/);
  });
});

describe('lazyImport', () => {
  it('imports once, and names the library when it is missing', async () => {
    let calls = 0;
    const load = lazyImport('jsonata', async () => { calls++; return (await import('jsonata')).default; });
    expect(await load()).toBe(await load());
    expect(calls).toBe(1);
    const missing = lazyImport('flowcrew-no-such-library', () => import('flowcrew-no-such-library' as string));
    await expect(missing()).rejects.toThrow(/the client library "flowcrew-no-such-library" could not be loaded/);
  });
});
