/**
 * RSS of a server process while a load generator sends it an exact number of requests, and right after the last one:
 * the figure issue 11's RSS target is stated in ("RSS after 20,000 requests"), taken the same way for every server
 * (bench/run.ts for Flowcrew and Node-RED, bench/rss.ts for revisions of Flowcrew).
 *
 * One reading is one point of V8's old-generation cycle (the old generation grows to several times the live heap
 * between mark-compacts), so the mean and max of the RSS sampled while the requests ran are returned beside it.
 */
import { requestsExactly, type LoadTarget } from './load.ts';
import type { BenchServer } from './node-red.ts';

export interface RssUnderLoad {
  /** Requests the load generator completed (autocannon, `connections` keep-alive connections). */
  served: number;
  seconds: number;
  /** RSS (MB) right after the last request was answered. */
  after: number;
  /** Mean and max RSS (MB) sampled every `everyMs` while the requests ran. */
  mean: number;
  max: number;
  /** The same over the second half of the samples (the old generation has grown by then). */
  secondHalfMean: number;
  samples: number;
}

export async function rssUnderLoad(server: BenchServer, target: LoadTarget, connections: number, amount: number, everyMs = 250): Promise<RssUnderLoad> {
  const samples: number[] = [];
  const sampler = setInterval(() => samples.push(server.rssMb()), everyMs);
  const began = Date.now();
  const served = await requestsExactly(target, connections, amount).finally(() => clearInterval(sampler));
  const seconds = (Date.now() - began) / 1000;
  const after = server.rssMb();
  if (samples.length === 0) samples.push(after);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { served, seconds, after, mean: mean(samples), max: Math.max(...samples), secondHalfMean: mean(samples.slice(Math.floor(samples.length / 2))), samples: samples.length };
}
