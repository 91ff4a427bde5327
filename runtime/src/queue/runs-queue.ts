/**
 * The main's queue of run jobs (queue/relay.ts hands committed runs over with addBulk). A hand-over is usually ONE job
 * (the runs of one group commit, ~5 ms apart at 1,500 runs/s: 0.16-0.17 jobs per run, session 12); BullMQ's addBulk
 * makes even one job a MULTI pipeline, and an ioredis Pipeline copies every script BullMQ defines (some 50) onto
 * itself when it is made, ~4 % of a busy main's time with the EXEC round around it. One job goes through Queue.add
 * instead: the same add script (addStandardJob), atomic on its own, as ONE EVALSHA; several still go as one MULTI.
 */
import { Queue, type Job } from 'bullmq';

type Bulk = Parameters<Queue['addBulk']>[0];

export class RunsQueue extends Queue {
  override async addBulk(jobs: Bulk): Promise<Job[]> {
    if (jobs.length !== 1) return super.addBulk(jobs);
    const [{ name, data, opts }] = jobs as [Bulk[number]];
    return [await this.add(name, data, opts)];
  }
}
