/**
 * A labelled histogram for the hot path (one observation per node invocation, per run, per HTTP request), kept in a
 * prom-client Registry that names, formats and serves it like its own metrics. What differs is only where the counts
 * live: prom-client's Histogram validates, copies and hashes the labels on every observe() (≈0.4 µs on a quiet
 * machine, several percent of a node hop); here each series is resolved once into an array of bucket counts, and an
 * observation is a bucket search and three additions. bench/metrics-overhead.ts measures both.
 */
import type { Metric, Registry } from 'prom-client';

interface Series<L extends string> {
  labels: Record<L, string>;
  /** Observations per bucket (not cumulative); the last slot is above the largest bound (+Inf only). */
  counts: Float64Array;
  sum: number;
  count: number;
}

export type Observe = (value: number) => void;

export class CountingHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series<L>>();
  private readonly observers = new Map<string, Observe>();
  private readonly bounds: Float64Array;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    buckets: readonly number[],
    registry: Registry,
  ) {
    if (buckets.some((b, i) => i > 0 && b <= buckets[i - 1]!)) throw new Error(`${name}: buckets must increase`);
    this.bounds = Float64Array.from(buckets);
    // The registry calls get() (or getForPromString()) at each scrape, as it does for its own metrics.
    registry.registerMetric(this as unknown as Metric);
  }

  /** The observer of one series (made once per label values, then reused: callers cache it by their own key). */
  observer(labels: Record<L, string>): Observe {
    const key = this.labelNames.map((n) => labels[n]).join('\u0000');
    let observe = this.observers.get(key);
    if (observe) return observe;
    const series: Series<L> = { labels: { ...labels }, counts: new Float64Array(this.bounds.length + 1), sum: 0, count: 0 };
    this.series.set(key, series);
    const bounds = this.bounds;
    const last = bounds.length;
    observe = (value: number) => {
      if (!Number.isFinite(value)) return;
      let i = 0;
      while (i < last && value > bounds[i]!) i++; // Prometheus buckets are "less than or equal"
      series.counts[i]!++;
      series.sum += value;
      series.count++;
    };
    this.observers.set(key, observe);
    return observe;
  }

  /** The values in prom-client's shape: cumulative _bucket series with `le`, then _sum and _count, per series. */
  async get() {
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    for (const series of this.series.values()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: bound }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...series.labels, le: '+Inf' }, value: series.count });
      values.push({ metricName: `${this.name}_sum`, labels: series.labels, value: series.sum });
      values.push({ metricName: `${this.name}_count`, labels: series.labels, value: series.count });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Zero every series (the observers handed out stay valid). */
  reset(): void {
    for (const series of this.series.values()) {
      series.counts.fill(0);
      series.sum = 0;
      series.count = 0;
    }
  }
}
