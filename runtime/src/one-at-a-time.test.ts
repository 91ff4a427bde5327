/** One task at a time per key (one-at-a-time.ts): what keeps two deploys of one flow from overlapping. */
import { describe, expect, it } from 'vitest';
import { OneAtATime } from './one-at-a-time.ts';

describe('one task at a time per key', () => {
  it('runs tasks of one key one after the other, in call order, even after a failure; other keys run alongside', async () => {
    const serial = new OneAtATime();
    const log: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      log.push(`${name} start`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push(`${name} end`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const first = serial.run('flow-a', task('a1', 30, true));
    const second = serial.run('flow-a', task('a2', 1));
    const other = serial.run('flow-b', task('b1', 1));
    await expect(first).rejects.toThrow('a1 failed');
    expect(await second).toBe('a2');
    expect(await other).toBe('b1');
    expect(log.indexOf('a2 start')).toBeGreaterThan(log.indexOf('a1 end'));
    expect(log.indexOf('b1 end')).toBeLessThan(log.indexOf('a1 end'));
  });
});
