import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CountingHistogram } from './counting-histogram.ts';

/** Prometheus text → "name{sorted labels}" → value, so two exporters can be compared line for line. */
function samples(text: string, rename: [string, string]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = line.match(/^(\w+)(?:\{(.*)\})? (\S+)$/)!;
    const labels = (match[2] ?? '').split(/,(?=\w+=)/).filter(Boolean).sort().join(',');
    out.set(`${match[1]!.replace(rename[0], rename[1])}{${labels}}`, Number(match[3]));
  }
  return out;
}

describe('CountingHistogram', () => {
  it('exports exactly what prom-client\'s Histogram exports for the same observations', async () => {
    const buckets = [0.001, 0.01, 0.1, 1];
    const reference = new Registry();
    const ours = new Registry();
    const theirs = new Histogram({ name: 'ref_seconds', help: 'h', labelNames: ['type', 'status'], buckets, registers: [reference] });
    const mine = new CountingHistogram('ours_seconds', 'h', ['type', 'status'], buckets, ours);
    const values = [0, 0.001, 0.0011, 0.01, 0.05, 0.1, 0.5, 1, 1.0001, 7, 123];
    for (const [type, status] of [['change', 'succeeded'], ['http-request', 'failed'], ['change', 'failed']] as const) {
      const observe = mine.observer({ type, status });
      for (const v of values) {
        theirs.observe({ type, status }, v * (status === 'failed' ? 2 : 1));
        observe(v * (status === 'failed' ? 2 : 1));
      }
    }
    const expected = samples(await reference.metrics(), ['ref_seconds', 'x']);
    const actual = samples(await ours.metrics(), ['ours_seconds', 'x']);
    expect(actual.size).toBe(3 * (buckets.length + 3));
    expect(actual).toEqual(expected);
    expect(await ours.metrics()).toContain('# TYPE ours_seconds histogram');
  });

  it('hands out one observer per series, ignores values that are not finite, and resets to zero', async () => {
    const registry = new Registry();
    const histogram = new CountingHistogram('h_seconds', 'h', ['flow'], [1, 2], registry);
    const a = histogram.observer({ flow: 'a' });
    expect(histogram.observer({ flow: 'a' })).toBe(a);
    a(1.5);
    a(Number.NaN);
    a(Number.POSITIVE_INFINITY);
    expect(await registry.metrics()).toContain('h_seconds_count{flow="a"} 1');
    histogram.reset();
    a(0.5);
    const text = await registry.metrics();
    expect(text).toContain('h_seconds_bucket{flow="a",le="1"} 1');
    expect(text).toContain('h_seconds_sum{flow="a"} 0.5');
    expect(() => new CountingHistogram('bad', 'h', [], [2, 1], registry)).toThrow(/buckets must increase/);
  });
});
