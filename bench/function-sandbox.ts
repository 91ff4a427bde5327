/**
 * Per-call latency of a trivial function node (`return msg;`) through the sandbox, sequential and 16 in flight.
 * Run: node --import tsx bench/function-sandbox.ts
 */
import { createTestNode } from '@flowcrew/sdk/testing';
import { functionNode } from '../nodes/core/src/io/function.ts';

const node = await createTestNode(functionNode, { func: 'return msg;', outputs: 1 });
const msg = { payload: { id: 'A-1', items: [1, 2, 3], customer: 'Ada' } };
for (let i = 0; i < 300; i++) await node.input(msg); // warm up

const N = 3000;
const samples: number[] = [];
for (let i = 0; i < N; i++) {
  const t = process.hrtime.bigint();
  await node.input(msg);
  samples.push(Number(process.hrtime.bigint() - t) / 1e3);
}
samples.sort((a, b) => a - b);
const pct = (p: number) => samples[Math.min(samples.length - 1, Math.ceil(p * samples.length) - 1)]!.toFixed(0);
console.log(`sequential: ${N} calls, median ${pct(0.5)} µs, p99 ${pct(0.99)} µs`);

const start = performance.now();
let done = 0;
await Promise.all(Array.from({ length: 16 }, async () => {
  while (done < N) {
    done++;
    await node.input(msg);
  }
}));
const ms = performance.now() - start;
console.log(`16 in flight: ${N} calls in ${ms.toFixed(0)} ms, ${((N / ms) * 1000).toFixed(0)} calls/s`);
await node.stop();
