/** Retained memory (after a garbage collection), sampled while work runs: what the tests' and bench's "flat memory" means. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

export function retained(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Run `work` and report the peak of retained memory above what was retained before, sampled every `everyMs`. */
export async function peakRetained<T>(work: () => Promise<T>, everyMs = 200): Promise<{ result: T; peakBytes: number }> {
  const baseline = retained();
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, retained() - baseline);
  }, everyMs);
  try {
    const result = await work();
    peak = Math.max(peak, retained() - baseline);
    return { result, peakBytes: peak };
  } finally {
    clearInterval(sampler);
  }
}

/** `count` rows of about 100 bytes each as a JSON Lines blob source, generated as it is read. */
export async function* jsonLinesRows(count: number): AsyncIterable<string> {
  let chunk = '';
  for (let i = 1; i <= count; i++) {
    chunk += `${JSON.stringify({ id: i, name: `customer ${i}`, email: `c${i}@example.com`, amount: (i % 1000) / 10, active: i % 3 === 0, created: '2026-12-03T10:00:00.000Z' })}\n`;
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
