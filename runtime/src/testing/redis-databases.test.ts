import { describe, expect, it } from 'vitest';
import { TEST_REDIS_DB } from './redis-databases.ts';

describe('test Redis databases', () => {
  it('gives every queue-mode test file a database of its own, inside the 32 the test Redis has and not 0', () => {
    const numbers = Object.values(TEST_REDIS_DB);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const n of numbers) expect(n).toBeGreaterThan(0), expect(n).toBeLessThan(32);
  });
});
