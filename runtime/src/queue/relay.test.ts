/**
 * The main's relay (queue/relay.ts) on a real PostgreSQL and Redis: the runs of one group commit, told to the relay one
 * by one as each run's acceptance resolves (executor/admission.ts), go to the workers as ONE job; a run committed
 * after that hand-over goes in the next one (session 15: the first run of each commit went alone, the rest in a second
 * job). A queue name of its own: nothing else in the database is touched.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { captureLog } from '../testing/log-capture.ts';
import { sharedPostgresSchema } from '../testing/storage-backends.ts';
import type { RunRecord } from '../storage/types.ts';
import { OutboxRelay } from './relay.ts';
import { RunsQueue } from './runs-queue.ts';

const storage = sharedPostgresSchema('relay');
const queue = new RunsQueue(`relay-test-${randomBytes(4).toString('hex')}`, { connection: { host: '127.0.0.1', port: 6379 } });

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
});

const run = (id: string): RunRecord => ({ id, flowId: 'f', flowVersion: 1, status: 'queued', triggerNodeId: null, input: {}, error: null, parentRunId: null, createdAt: Date.now(), startedAt: null, finishedAt: null });

describe('OutboxRelay', () => {
  it('hands the runs of one group commit over as one job, and a run committed later in a job of its own', async () => {
    const s = await storage();
    await s.saveFlow({ id: 'f', name: 'f', version: 1, nodes: [] });
    const relay = new OutboxRelay({ storage: s, queue, log: captureLog().log, attempts: 3 });
    const ids = Array.from({ length: 5 }, (_, i) => `run-${i}-${randomBytes(3).toString('hex')}`);
    // One commit for the five, then each acceptance's continuation tells the relay (as a main's admissions do). No
    // outbox rows: the relay's first pass also sweeps the outbox, which would hand rows it finds over again.
    const commit = Promise.all(ids.map((id) => s.acceptRun(run(id), [])));
    await Promise.all(
      ids.map(async (id) => {
        await commit;
        relay.committed(id);
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    const later = `run-later-${randomBytes(3).toString('hex')}`;
    await s.acceptRun(run(later), []);
    relay.committed(later);
    await relay.stop();
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data.runIds).sort((a, b) => b.length - a.length)).toEqual([ids, [later]]);
    expect(relay.stats.enqueued).toBe(6);
  });
});
