import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { SharedResources } from './shared-resources.ts';

describe('shared resources', () => {
  it('shares one value per key and closes it a while after the last holder lets go', async () => {
    const closed: string[] = [];
    const resources = new SharedResources<string>((value) => void closed.push(value), 10);
    let opened = 0;
    const open = async () => `db${++opened}`;
    const a = await resources.acquire('k', open);
    const b = await resources.acquire('k', open);
    expect([a.value, b.value]).toEqual(['db1', 'db1']);
    a.release();
    await sleep(30);
    expect(closed).toEqual([]);
    b.release();
    await sleep(30);
    expect(closed).toEqual(['db1']);
    expect((await resources.acquire('k', open)).value).toBe('db2');
    await resources.closeAll();
  });

  it('keeps a keepOpen value (an in-memory database) open when idle, until closeAll', async () => {
    const closed: string[] = [];
    const resources = new SharedResources<string>((value) => void closed.push(value), 10);
    const lease = await resources.acquire('memory', async () => 'in-memory', { keepOpen: true });
    lease.release();
    await sleep(30);
    expect(closed).toEqual([]);
    expect((await resources.acquire('memory', async () => 'another')).value).toBe('in-memory');
    await resources.closeAll();
    expect(closed).toEqual(['in-memory']);
  });
});
