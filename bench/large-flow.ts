/**
 * A large flow through the API: one inject node wired to N debug nodes (default 9,999, ~230 KB of JSON).
 * Prints how long validate, create and deploy take and the slowest /health answer while each runs.
 *
 *   node --import tsx bench/large-flow.ts [--nodes 9999]
 */
import { startTestServer } from '../runtime/src/testing/server.ts';

const at = process.argv.indexOf('--nodes');
const fanOut = at > 0 ? Number(process.argv[at + 1]) : 9_999;

function largeFlow(id: string, targets: number) {
  const ids = Array.from({ length: targets }, (_, i) => `d${i}`);
  return {
    id,
    name: `fan-out to ${targets} debug nodes`,
    nodes: [{ id: 'start', type: 'inject', wires: [ids] }, ...ids.map((d) => ({ id: d, type: 'debug' }))],
  };
}

const server = await startTestServer();
try {
  const flow = largeFlow('large', fanOut);
  console.log(`flow: 1 inject → ${fanOut} debug nodes, ${(JSON.stringify(flow).length / 1024).toFixed(0)} KB`);
  /** Time one API call while polling /health every 50 ms; report the call's time and the slowest health answer. */
  const measure = async (label: string, call: () => Promise<{ status: number }>) => {
    let worstHealth = 0;
    let done = false;
    const poll = (async () => {
      while (!done) {
        const t = performance.now();
        await server.api('GET', '/api/v1/health');
        worstHealth = Math.max(worstHealth, performance.now() - t);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const started = performance.now();
    const { status } = await call();
    const ms = performance.now() - started;
    done = true;
    await poll;
    console.log(`${label.padEnd(10)} ${String(status).padEnd(4)} ${ms.toFixed(0).padStart(7)} ms   slowest /health meanwhile ${worstHealth.toFixed(0)} ms`);
  };
  await measure('validate', () => server.api('POST', '/api/v1/flows/validate', flow));
  await measure('create', () => server.api('POST', '/api/v1/flows', flow));
  await measure('deploy', () => server.api('POST', '/api/v1/flows/large/deploy'));
  await measure('update', () => server.api('PUT', '/api/v1/flows/large', flow));
  await measure('redeploy', () => server.api('POST', '/api/v1/flows/large/deploy'));
} finally {
  await server.stop();
}
