/**
 * The main's queue of run jobs (queue/relay.ts hands committed runs over with addBulk). A hand-over is usually ONE job
 * (the runs of one group commit, ~5 ms apart at 1,500 runs/s: 0.16-0.2 jobs per run); BullMQ's addBulk sends even one
 * job through an ioredis pipeline, and a Pipeline copies every script command BullMQ defines (some 50) onto itself
 * when it is made. One job goes through Queue.add instead: the same add script (addStandardJob) as ONE EVALSHA.
 * Measured (session 13, 3,000 one-job hand-overs of 6 runs in a row, load ~10): 115-140 -> 50-58 CPU µs each, and
 * 216-233 -> 118-128 µs until Redis answered. Several jobs still go as one addBulk.
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
