/**
 * Active-active mains and a repeating inject (the other cluster-singleton trigger beside cron, whose kill -9 and
 * SIGSTOP takeovers leader.test.ts covers with real processes): two mains and a worker on one real PostgreSQL schema
 * and Redis. The flow is deployed on both mains, yet exactly one of them is the leader (its /metrics says so) and
 * only its timer fires: the runs stored never outnumber the timer's ticks (one per second since deploy, a bound a
 * late timer on a loaded machine keeps too; two firing mains would give about two per second). When the leader
 * stops, the other main takes the inject over and runs go on arriving.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import { QueueCluster, until } from '../testing/queue-cluster.ts';
import type { TestServer } from '../testing/server.ts';
import { TEST_REDIS_DB } from '../testing/redis-databases.ts';

const REDIS_DB = TEST_REDIS_DB.injectLeader;
let cluster: QueueCluster;
let mainA: TestServer;
let mainB: TestServer;
let worker: Runtime;

beforeAll(async () => {
  cluster = await QueueCluster.create({ name: 'injectlead', redisDb: REDIS_DB, env: { FLOWCREW_LEASE_TTL_MS: '3000' } });
  mainA = await cluster.main('main-a');
  mainB = await cluster.main('main-b');
  worker = await cluster.worker('worker-1');
}, 120_000);

afterAll(async () => cluster?.close(), 60_000);

const leaders = () => [mainA, mainB].filter((m) => m.runtime.leader?.holds());
const leaderGauge = async (main: TestServer) => /^flowcrew_cluster_leader (\d)$/m.exec((await main.api('GET', '/metrics')).body as string)?.[1];
const runsOfTick = async (on: TestServer) => (await on.runtime.storage.listRuns({ flowId: 'tick', limit: 1000 })).length;

describe('a repeating inject on active-active mains (leader election on PostgreSQL)', () => {
  it('fires on the leader only; the other main takes it over when the leader stops', async () => {
    expect(worker.queue).toBeDefined();
    const nodes = [
      { id: 'every', type: 'inject', props: { repeat: '1', props: [{ p: 'payload', v: 'tick', vt: 'str' }] }, wires: [['mark']] },
      { id: 'mark', type: 'change', props: { rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'done', tot: 'str' }] }, wires: [] },
    ];
    await mainA.runtime.createFlow({ id: 'tick', name: 'tick', version: 0, nodes });
    const deployedAt = Date.now();
    await mainA.runtime.deployFlow('tick');
    await until('the flow deployed on both mains', async () => (mainB.runtime.executor.isDeployed('tick') ? true : undefined));

    // One leader; both mains have the flow deployed, and each says on /metrics whether it leads.
    const leader = await until('exactly one leader', async () => (leaders().length === 1 ? leaders()[0] : undefined));
    const follower = leader === mainA ? mainB : mainA;
    await until('the gauges to agree with the election', async () => ((await leaderGauge(leader)) === '1' && (await leaderGauge(follower)) === '0' ? true : undefined));

    await until('4 ticks stored', async () => ((await runsOfTick(follower)) >= 4 ? true : undefined));
    const stored = await runsOfTick(follower);
    // Each election starts a timer anew (a leader that stalled under load hands over): one extra tick per election.
    const elections = [mainA, mainB].reduce((n, m) => n + (m.runtime.leader?.stats.elected ?? 0), 0);
    const ticksPossible = Math.floor((Date.now() - deployedAt) / 1000) + elections;
    expect(stored, `${stored} runs in ${Date.now() - deployedAt} ms, ${elections} election(s)`).toBeLessThanOrEqual(ticksPossible);

    // The leader stops (a rolling update): the follower is elected and starts the inject's timer.
    await leader.stop();
    await until('the other main to lead', async () => (follower.runtime.leader?.holds() ? true : undefined), 30_000);
    const atTakeover = await runsOfTick(follower);
    await until('ticks from the new leader', async () => ((await runsOfTick(follower)) >= atTakeover + 3 ? true : undefined), 30_000);
    const runs = await follower.runtime.storage.listRuns({ flowId: 'tick', limit: 1000 });
    await until('the runs to finish on the worker', async () => {
      const statuses = await Promise.all(runs.map(async (r) => (await follower.runtime.storage.getRun(r.id))?.status));
      return statuses.every((s) => s === 'succeeded') ? true : undefined;
    }, 30_000);
  }, 120_000);
});
