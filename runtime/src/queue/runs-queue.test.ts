/**
 * The main's queue (queue/runs-queue.ts) on a real Redis: a hand-over of one job (one EVALSHA instead of a
 * pipeline) leaves the same job in the queue as BullMQ's addBulk, and a batch handed over twice is still one job.
 * A queue name of its own: nothing else in the database is touched.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { jobOptions, runJobs } from './relay.ts';
import { RunsQueue } from './runs-queue.ts';

const queue = new RunsQueue(`runs-queue-test-${randomBytes(4).toString('hex')}`, { connection: { host: '127.0.0.1', port: 6379 } });

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

describe('RunsQueue', () => {
  it('adds a hand-over of one job as addBulk would (one add script instead of a pipeline): same id, data and options, once however often it is handed over', async () => {
    const jobs = runJobs(['run-a', 'run-b'], 16, 3, { channel: 'main-1', waits: (id) => id === 'run-b' });
    const [added] = await queue.addBulk(jobs);
    await queue.addBulk(runJobs(['run-a', 'run-b'], 16, 3, { channel: 'main-1', waits: (id) => id === 'run-b' }));
    expect(added!.id).toBe(jobOptions(['run-a', 'run-b'], 3).jobId);
    const waiting = await queue.getJobs(['waiting']);
    expect(waiting.map((j) => j.id)).toEqual([added!.id]);
    const stored = waiting[0]!;
    expect(stored.data).toEqual({ runIds: ['run-a', 'run-b'], replyTo: { channel: 'main-1', runIds: ['run-b'], lists: true } });
    expect(stored.opts).toMatchObject({ attempts: 3, backoff: { type: 'exponential', delay: 1_000 }, removeOnComplete: true, removeOnFail: 10_000 });
  });

  it('adds several jobs together', async () => {
    const ids = Array.from({ length: 5 }, (_, i) => `run-${i}`);
    const added = await queue.addBulk(runJobs(ids, 2, 3));
    expect(added.map((j) => j.data.runIds)).toEqual([['run-0', 'run-1'], ['run-2', 'run-3'], ['run-4']]);
    expect(await queue.getJobCountByTypes('waiting')).toBe(4);
  });
});
