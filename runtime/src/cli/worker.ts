/** `flowcrew worker`: a queue worker (FLOWCREW_MODE=worker): executes queued runs, starts no triggers, serves no HTTP. */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config.ts';
import { Runtime } from '../runtime.ts';
import { startWorkerHealth } from '../queue/worker-health.ts';

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('execute queued runs (queue mode: needs DATABASE_URL=postgres://... and Redis, FLOWCREW_REDIS_URL)')
    .option('-c, --concurrency <n>', 'runs executed at once (default $FLOWCREW_WORKER_CONCURRENCY or 10)')
    .option('-d, --data-dir <dir>', 'data directory (default $FLOWCREW_DATA_DIR or ./.flowcrew)')
    .action(async (opts: { concurrency?: string; dataDir?: string }) => {
      const env = { ...process.env, FLOWCREW_MODE: 'worker', ...(opts.concurrency ? { FLOWCREW_WORKER_CONCURRENCY: opts.concurrency } : {}) };
      const config = loadConfig(env, opts.dataDir ? { dataDir: path.resolve(opts.dataDir) } : {});
      const runtime = await Runtime.create(config, { loadExamples: false });
      // Probes answer while the worker resumes (not ready until it is done).
      const health = config.cluster.workerPort > 0 ? await startWorkerHealth(runtime, config.cluster.workerPort, config.host) : null;
      await runtime.resumeRuns();
      runtime.log.info(`Flowcrew worker ${config.cluster.instanceId} running (concurrency ${config.cluster.workerConcurrency}${health ? `; health and metrics on ${config.host}:${health.port}` : ''})`);
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        // Graceful drain: no new jobs; runs in progress finish (up to 30 s); what is left is handed to other workers.
        runtime.log.info(`${signal}: draining`);
        Promise.all([runtime.close(), health?.close()]).then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
}
