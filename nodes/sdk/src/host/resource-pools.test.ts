import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PooledResource, ResourceLimitError } from '../resources.ts';
import { LiveCredential } from './live-credential.ts';
import { ResourcePools } from './resource-pools.ts';

/** A resource that records its life: what opened, what closed. */
function tracked() {
  let opened = 0;
  const closed: string[] = [];
  return {
    closed,
    get opened() {
      return opened;
    },
    open: async () => `conn${++opened}`,
    close: (value: string) => void closed.push(value),
  };
}

const pools: ResourcePools[] = [];
function newPools(options?: ConstructorParameters<typeof ResourcePools>[0]): ResourcePools {
  const created = new ResourcePools(options);
  pools.push(created);
  return created;
}
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.closeAll()));
});

describe('resource pools: reference counting', () => {
  it('opens one resource per key for every holder, and closes it when the last one releases it', async () => {
    const r = tracked();
    const p = newPools();
    const [a, b] = await Promise.all([p.acquire('db', r.open, r.close), p.acquire('db', r.open, r.close)]);
    expect([a.value, b.value, r.opened]).toEqual(['conn1', 'conn1', 1]);
    a.release();
    a.release(); // idempotent: does not count twice
    expect(r.closed).toEqual([]);
    b.release();
    await sleep(0);
    expect(r.closed).toEqual(['conn1']);
    expect(p.list()).toEqual([]);
  });

  it('shares across holders of different scopes (nodes of different flows) and closes on undeploy of the last', async () => {
    const r = tracked();
    const p = newPools();
    const flowA = p.scope();
    const flowB = p.scope();
    await flowA.acquire('db', r.open, r.close, { idleMs: 60_000 });
    await flowB.acquire('db', r.open, r.close, { idleMs: 60_000 });
    expect(p.list()).toEqual([{ key: 'db', holders: 2, state: 'open' }]);
    flowA.releaseAll({ closeNow: true });
    expect(r.closed).toEqual([]);
    // The last holder undeployed: closed at once, the idle linger notwithstanding.
    flowB.releaseAll({ closeNow: true });
    await sleep(0);
    expect(r.closed).toEqual(['conn1']);
  });

  it('keeps a resource for idleMs after its last holder (a node per tool call), reusing it meanwhile', async () => {
    const r = tracked();
    const p = newPools();
    (await p.acquire('db', r.open, r.close, { idleMs: 40 })).release();
    const again = await p.acquire('db', r.open, r.close, { idleMs: 40 });
    expect(again.value).toBe('conn1');
    again.release();
    await sleep(80);
    expect(r.closed).toEqual(['conn1']);
  });

  it('does not remember a failed open: the next acquire tries again', async () => {
    const p = newPools();
    let attempts = 0;
    const open = async () => {
      if (++attempts === 1) throw new Error('connection refused');
      return 'ok';
    };
    await expect(p.acquire('db', open, () => {})).rejects.toThrow('connection refused');
    expect((await p.acquire('db', open, () => {})).value).toBe('ok');
  });

  it('keepOpen resources survive having no holder, until closeAll', async () => {
    const r = tracked();
    const p = newPools();
    (await p.acquire('memory', r.open, r.close, { keepOpen: true })).release();
    await sleep(10);
    expect(r.closed).toEqual([]);
    await p.closeAll();
    expect(r.closed).toEqual(['conn1']);
  });
});

describe('resource pools: credential change', () => {
  it('retires resources of older revisions: holders see stale, a new acquire opens with the new revision, the old closes when let go', async () => {
    const r = tracked();
    const p = newPools();
    const old = await p.acquire('db', r.open, r.close, { credential: { id: 'c1', revision: 1 } });
    const other = await p.acquire('db', r.open, r.close, { credential: { id: 'c2', revision: 1 } });
    let told = 0;
    old.onStale(() => told++);
    expect(p.retireCredential('c1', 2)).toBe(1);
    expect([old.stale, other.stale, told]).toEqual([true, false, 1]);
    const fresh = await p.acquire('db', r.open, r.close, { credential: { id: 'c1', revision: 2 } });
    expect(fresh.value).toBe('conn3');
    expect(r.closed).toEqual([]); // the old one is still held (a query may be running on it)
    old.release();
    await sleep(0);
    expect(r.closed).toEqual(['conn1']);
    fresh.release();
    other.release();
  });

  it('closes a retired resource still held after the grace period', async () => {
    const r = tracked();
    const p = newPools({ retireGraceMs: 30 });
    const held = await p.acquire('db', r.open, r.close, { credential: { id: 'c1', revision: 1 } });
    p.retireCredential('c1');
    await sleep(60);
    expect(r.closed).toEqual(['conn1']);
    expect(held.stale).toBe(true);
    held.release();
  });

  it('PooledResource follows a live credential: the next use gets a resource opened with the new fields, the old one closes', async () => {
    const p = newPools();
    const credential = new LiveCredential('pg', 'postgres', { password: 'old' });
    const closed: string[] = [];
    const open = async () => `connected with ${credential.fields.password}`;
    const handle = new PooledResource(p.scope(), 'db', open, (v) => void closed.push(v), { credential });
    expect(await handle.use((v) => v)).toBe('connected with old');
    credential.update({ password: 'new' });
    p.retireCredential('pg', credential.revision);
    await sleep(0);
    expect(closed).toEqual(['connected with old']); // not in use: given back at once
    expect(await handle.use((v) => v)).toBe('connected with new');
    handle.release();
    await sleep(0);
    expect(closed).toEqual(['connected with old', 'connected with new']);
  });

  it('PooledResource keeps a retired lease until the use running on it ends', async () => {
    const p = newPools();
    const credential = new LiveCredential('pg', 'postgres', { n: 1 });
    const closed: unknown[] = [];
    const handle = new PooledResource(p.scope(), 'db', async () => ({ n: credential.fields.n }), (v) => void closed.push(v), { credential });
    let finish!: () => void;
    const running = handle.use(async (v) => {
      await new Promise<void>((resolve) => (finish = resolve));
      return v;
    });
    await sleep(0);
    credential.update({ n: 2 });
    p.retireCredential('pg', credential.revision);
    await sleep(0);
    expect(closed).toEqual([]);
    finish();
    expect(await running).toEqual({ n: 1 });
    await sleep(0);
    expect(closed).toEqual([{ n: 1 }]);
    handle.release();
  });
});

describe('resource pools: health and limits', () => {
  it('retires a resource whose health check fails; the next acquire opens a new one', async () => {
    const r = tracked();
    const p = newPools();
    let healthy = true;
    const lease = await p.acquire('db', r.open, r.close, { check: () => healthy, checkIntervalMs: 10 });
    healthy = false;
    await sleep(40);
    expect(lease.stale).toBe(true);
    lease.release();
    await sleep(0);
    expect(r.closed).toEqual(['conn1']);
    expect((await p.acquire('db', r.open, r.close)).value).toBe('conn2');
  });

  it('refuses to open more resources than the limit, naming it', async () => {
    const p = newPools({ maxResources: 2 });
    await p.acquire('a', async () => 1, () => {});
    await p.acquire('b', async () => 2, () => {});
    await expect(p.acquire('c', async () => 3, () => {})).rejects.toThrow(ResourceLimitError);
    await expect(p.acquire('c', async () => 3, () => {})).rejects.toThrow(/2 pooled resources are open, the limit is 2/);
    // An existing key is still shared.
    expect((await p.acquire('a', async () => 9, () => {})).value).toBe(1);
  });

  it('gives up an open that hangs, and closes the value if it arrives later', async () => {
    const closed: string[] = [];
    const p = newPools();
    let late!: (v: string) => void;
    const open = (signal: AbortSignal) =>
      new Promise<string>((resolve) => {
        late = resolve;
        expect(signal.aborted).toBe(false);
      });
    await expect(p.acquire('slow', open, (v) => void closed.push(v), { openTimeoutMs: 20 })).rejects.toThrow(/timed out after 20 ms/);
    late('arrived late');
    await sleep(0);
    expect(closed).toEqual(['arrived late']);
    expect(p.list()).toEqual([]);
  });

  it('closeAll closes everything, marks leases stale and refuses new acquires', async () => {
    const r = tracked();
    const p = newPools();
    const lease = await p.acquire('db', r.open, r.close);
    await p.closeAll();
    expect(lease.stale).toBe(true);
    expect(r.closed).toEqual(['conn1']);
    await expect(p.acquire('db', r.open, r.close)).rejects.toThrow(/shutting down/);
  });
});
