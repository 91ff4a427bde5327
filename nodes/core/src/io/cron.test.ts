import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestNode, type TestNode } from '@flowcrew/sdk/testing';
import { cronNode } from './cron.ts';

const started: TestNode[] = [];
afterEach(async () => {
  for (const node of started.splice(0)) await node.stop();
});

describe('cron node', () => {
  it('rejects an invalid expression at deploy with the reason', async () => {
    await expect(createTestNode(cronNode, { expression: '61 * * * *' })).rejects.toThrow(/cron: invalid expression "61 \* \* \* \*": .*minute/);
    await expect(createTestNode(cronNode, { expression: 'every minute' })).rejects.toThrow(/expected 5 or 6 fields/);
    await expect(createTestNode(cronNode, { expression: '' })).rejects.toThrow(/expression is required/);
  });

  it('rejects an unknown time zone at deploy', async () => {
    await expect(createTestNode(cronNode, { expression: '0 * * * *', timezone: 'Mars/Olympus' })).rejects.toThrow(/unknown time zone "Mars\/Olympus"/);
  });

  it('accepts five fields, six with seconds, names and a time zone', async () => {
    for (const expression of ['*/5 * * * *', '0 0 9 * * mon-fri', '0 12 1 jan *']) {
      await expect(createTestNode(cronNode, { expression, timezone: 'Europe/Paris' })).resolves.toBeDefined();
    }
  });

  it('emits its payload with topic and firing time on each tick', async () => {
    const node = await createTestNode(cronNode, { expression: '* * * * * *', payload: { job: 'sync' } });
    started.push(node);
    await node.start();
    await vi.waitFor(() => expect(node.emitted.length).toBeGreaterThanOrEqual(1), { timeout: 3000 });
    const { msg } = node.emitted[0]!;
    expect(msg).toMatchObject({ payload: { job: 'sync' }, topic: 'cron' });
    expect(new Date(msg.firedAt as string).toISOString()).toBe(msg.firedAt);
    await node.stop();
    const count = node.emitted.length;
    await new Promise((r) => setTimeout(r, 1200));
    expect(node.emitted.length).toBe(count);
  });

  it('runs by hand: the configured payload, or the payload given', async () => {
    const node = await createTestNode(cronNode, { expression: '0 0 * * *', payload: 'nightly' });
    const [configured] = await node.input({});
    expect(configured!.msg).toMatchObject({ payload: 'nightly', topic: 'cron' });
    expect(typeof configured!.msg.firedAt).toBe('string');
    expect(await node.input({ payload: 'custom' })).toEqual([{ port: 0, msg: { payload: 'custom' } }]);
  });

  it('gives each message its own copy of the payload', async () => {
    const node = await createTestNode(cronNode, { expression: '0 0 * * *', payload: { n: 1 } });
    const [first] = await node.input({});
    (first!.msg.payload as { n: number }).n = 99;
    const [second] = await node.input({});
    expect(second!.msg.payload).toEqual({ n: 1 });
  });
});
