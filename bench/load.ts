/**
 * Load generators for the webhook benchmarks: wrk (a C load generator, the measurement; `bash scripts/services
 * wrk` installs it) and autocannon (in this process). Both POST the same JSON order with keep-alive connections.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';

export interface LoadResult {
  tool: 'wrk' | 'autocannon';
  requests: number;
  rps: number;
  /** Latencies in ms. */
  p50: number;
  p99: number;
  max: number;
  /** Non-2xx answers, socket errors and timeouts. */
  failures: number;
  /** The server's CPU time per request over the load (filled in by the caller, which knows the server's process). */
  cpuUsPerRequest?: number;
}

export interface LoadTarget {
  url: string;
  body: string;
}

/** A Lua script for wrk: POST the body, and print the figures as one JSON line when done. */
function wrkScript(body: string): string {
  return `wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = ${JSON.stringify(body)}
function done(summary, latency, requests)
  local e = summary.errors
  local failures = e.connect + e.read + e.write + e.timeout + e.status
  io.write(string.format('{"requests":%d,"seconds":%f,"p50":%f,"p99":%f,"max":%f,"failures":%d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000, failures))
end
`;
}

export function wrkAvailable(): boolean {
  return ['/usr/bin/wrk', '/usr/local/bin/wrk'].some((p) => existsSync(p));
}

export async function wrk(target: LoadTarget, connections: number, seconds: number): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-wrk-'));
  const script = path.join(dir, 'post.lua');
  await writeFile(script, wrkScript(target.body));
  try {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, target.url], (error, out) => (error ? reject(error) : resolve(out))),
    );
    const line = stdout.split('\n').find((l) => l.startsWith('{'));
    if (!line) throw new Error(`wrk printed no figures:\n${stdout}`);
    const r = JSON.parse(line) as { requests: number; seconds: number; p50: number; p99: number; max: number; failures: number };
    return { tool: 'wrk', requests: r.requests, rps: r.requests / r.seconds, p50: r.p50, p99: r.p99, max: r.max, failures: r.failures };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export function autocannonLoad(target: LoadTarget, connections: number, seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      { url: target.url, connections, duration: seconds, method: 'POST', headers: { 'content-type': 'application/json' }, body: target.body },
      (error, result) => {
        if (error) return reject(error);
        resolve({
          tool: 'autocannon',
          requests: result.requests.total,
          rps: result.requests.average,
          p50: result.latency.p50,
          p99: result.latency.p99,
          max: result.latency.max,
          failures: result.non2xx + result.errors + result.timeouts,
        });
      },
    );
  });
}

/** Exactly `amount` requests (autocannon), e.g. to bring a server to a request count before reading its RSS. */
export function requestsExactly(target: LoadTarget, connections: number, amount: number): Promise<number> {
  if (amount <= 0) return Promise.resolve(0);
  return new Promise((resolve, reject) => {
    autocannon(
      { url: target.url, connections, amount, method: 'POST', headers: { 'content-type': 'application/json' }, body: target.body },
      (error, result) => (error ? reject(error) : resolve(result.requests.total)),
    );
  });
}
