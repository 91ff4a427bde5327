// Preloaded into a server by bench/rss.ts (`node --expose-gc --import <this>`): on SIGWINCH (SIGUSR2 stops Node-RED) it appends one JSON line
// to $FLOWCREW_RSS_PROBE_OUT with process.memoryUsage() and V8's heap spaces, before and after a forced GC, so the
// RSS can be split into live heap, heap headroom and memory outside V8's heap. Plain JS: it must load in any revision.
import { appendFileSync } from 'node:fs';
import v8 from 'node:v8';

const mb = (bytes) => Math.round(bytes / 1e6);

function take(label) {
  const m = process.memoryUsage();
  const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: mb(s.space_size), used: mb(s.space_used_size) }]));
  return { label, rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers), spaces };
}

process.on('SIGWINCH', () => {
  const out = [take('now')];
  if (globalThis.gc) {
    globalThis.gc();
    out.push(take('after-gc'));
  }
  appendFileSync(process.env.FLOWCREW_RSS_PROBE_OUT, JSON.stringify(out) + '\n');
});
