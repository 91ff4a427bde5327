/**
 * What the body-depth guard and the message limits add per webhook request and per node hop, measured on the parts
 * themselves (the whole webhook path is measured by `npm run bench`). Prints µs per call.
 *
 *   node --import tsx bench/limits-overhead.ts
 */
import { findTooDeep, hasMoreContainersThan } from '../runtime/src/flow/json-depth.ts';

const MAX_DEPTH = 128;
const order = { id: 'A-1', customer: 'Ada', items: [{ sku: 'mug', qty: 2, price: 60 }] };
const rows = (n: number) => ({ payload: { rows: Array.from({ length: n }, (_, i) => ({ id: i, name: `row ${i}`, tags: ['a', 'b'], nested: { ok: true, n: i } })) } });

function time(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < iterations / 10; i++) fn(); // warm up
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / 1000 / iterations;
}

const MAX_BYTES = 16 * 1024 * 1024;

/** What messageJson (runtime/src/storage/sql-storage.ts) adds to JSON.stringify: the size and the depth checks. */
function limitChecks(value: unknown, text: string): boolean {
  if (text.length > MAX_BYTES || (text.length * 3 > MAX_BYTES && Buffer.byteLength(text) > MAX_BYTES)) return true;
  return text.length > 2 * MAX_DEPTH && hasMoreContainersThan(text, MAX_DEPTH) && findTooDeep(value, MAX_DEPTH) !== null;
}

const guard = time(() => findTooDeep(order, MAX_DEPTH), 200_000);
console.log(`body guard on the orders webhook body: ${guard.toFixed(3)} µs per request`);
for (const [label, message, iterations] of [
  ['orders message (171 chars)', { payload: order, req: { method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' } } }, 200_000],
  ['40 rows (2.8 KB, 122 containers)', rows(40), 20_000],
  ['1,000 rows (72 KB, 3,002 containers)', rows(1000), 1_000],
] as const) {
  const text = JSON.stringify(message);
  const serialise = time(() => JSON.stringify(message), iterations);
  const checks = time(() => limitChecks(message, text), iterations);
  console.log(`${label.padEnd(38)} stringify ${serialise.toFixed(2).padStart(8)} µs, limit checks ${checks.toFixed(2).padStart(7)} µs (+${((checks / serialise) * 100).toFixed(1)} %)`);
}
