/**
 * Context in a Dapr state store, against a real daprd 1.14 (state.redis on the Redis of scripts/services): the same
 * cases as the database context store (storage.suite.ts), two processes adding keys to one scope at once (the
 * index's etag: nothing lost), and the executor's ContextRegistry on top of it. Skips, saying why, without daprd.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daprdMissing, startDaprd, type Daprd } from '@flowcrew/nodes-dapr/testing';
import { ContextRegistry } from '../executor/context.ts';
import { DaprContextStore, daprContextFromEnv } from './dapr-state.ts';

describe('daprContextFromEnv', () => {
  it('is off by default, reads the sidecar settings, and names a wrong FLOWCREW_CONTEXT_STORE', () => {
    expect(daprContextFromEnv({})).toBeUndefined();
    expect(daprContextFromEnv({ FLOWCREW_CONTEXT_STORE: 'database' })).toBeUndefined();
    expect(daprContextFromEnv({ FLOWCREW_CONTEXT_STORE: 'dapr' })).toBeInstanceOf(DaprContextStore);
    expect(() => daprContextFromEnv({ FLOWCREW_CONTEXT_STORE: 'redis' })).toThrow('FLOWCREW_CONTEXT_STORE must be "database" (default) or "dapr", not "redis"');
  });

  it('names the sidecar and the operation when the sidecar is not there', async () => {
    const store = new DaprContextStore({ url: 'http://127.0.0.1:9', store: 'statestore' });
    await expect(store.loadContext('global')).rejects.toThrow(/^Dapr context store http:\/\/127\.0\.0\.1:9 \(state store "statestore"\): read context "global" failed: fetch failed/);
  });
});

describe.skipIf(daprdMissing !== undefined)('Dapr context store against a real daprd', () => {
  let daprd: Daprd;
  const open = () => new DaprContextStore({ url: `http://127.0.0.1:${daprd.httpPort}`, store: 'statestore' });

  beforeAll(async () => {
    daprd = await startDaprd('flowcrew-context');
  }, 90_000);
  afterAll(async () => {
    await daprd?.stop();
  }, 30_000);

  it('round-trips awkward text exactly', async () => {
    const s = open();
    const nasty = `it's "quoted" \\ back\\slash ; | || %41 ? $1 :x \u00e9\u{1F600} \n\t end`;
    await s.setContext(`scope ${nasty}`, `key ${nasty}`, { text: nasty, list: [nasty] });
    expect(await open().loadContext(`scope ${nasty}`)).toEqual({ [`key ${nasty}`]: { text: nasty, list: [nasty] } });
  });

  it('stores JSON values per scope; overwrite; null kept; undefined deletes', async () => {
    const s = open();
    await Promise.all([s.setContext('global', 'count', 1), s.setContext('global', 'obj', { a: [1, { b: 'c' }] }), s.setContext('global', 'nothing', null), s.setContext('flow:f1', 'count', 99)]);
    await s.setContext('global', 'count', 2);
    const other = open(); // another process reading what this one wrote
    expect(await other.loadContext('global')).toEqual({ count: 2, obj: { a: [1, { b: 'c' }] }, nothing: null });
    expect(await other.loadContext('flow:f1')).toEqual({ count: 99 });
    await s.setContext('global', 'obj', undefined);
    await s.setContext('global', 'never-there', undefined);
    expect(await open().loadContext('global')).toEqual({ count: 2, nothing: null });
    expect(await open().loadContext('empty')).toEqual({});
  });

  it('an unserialisable value fails with a clear error, nothing written', async () => {
    const s = open();
    await expect(s.setContext('global', 'big', 10n)).rejects.toThrow(/context global\/big: it is not JSON-serialisable/);
    await expect(s.setContext('global', 'fn', () => 1)).rejects.toThrow(/a function is not JSON-serialisable/);
    expect(Object.keys(await open().loadContext('global'))).not.toContain('big');
  });

  it('loses no key when two processes add keys to one scope at the same time', async () => {
    const a = open();
    const b = open();
    await Promise.all([a.loadContext('flow:race'), b.loadContext('flow:race')]);
    await Promise.all(Array.from({ length: 10 }, (_, i) => [a.setContext('flow:race', `a${i}`, i), b.setContext('flow:race', `b${i}`, i)]).flat());
    const all = await open().loadContext('flow:race');
    expect(Object.keys(all).sort()).toEqual([...Array.from({ length: 10 }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`)].sort());
  });

  it("backs the executor's context registry: what a flow wrote is there after a restart", async () => {
    const log = { debug() {}, info() {}, warn() {}, error() {} };
    const store = open();
    const context = await new ContextRegistry(store, log).get('flow:restart');
    context.set('visits', 3);
    context.set('last', { at: 'noon' });
    await store.flush();
    const again = await new ContextRegistry(open(), log).get('flow:restart');
    expect(again.keys().sort()).toEqual(['last', 'visits']);
    expect(again.get('visits')).toBe(3);
  });
});
