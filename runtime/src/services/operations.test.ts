import { describe, expect, it } from 'vitest';
import type { Runtime } from '../runtime.ts';
import { startTestServer } from '../testing/server.ts';
import { OperationsService } from './operations.ts';

describe('liveness and readiness (real server)', () => {
  it('answers live and ready to anonymous probes; error texts only for instance admins', async () => {
    const server = await startTestServer({}, { loadExamples: true });
    try {
      const live = await server.apiAs(null, 'GET', '/api/v1/health/live');
      expect(live.status).toBe(200);
      expect(live.body).toMatchObject({ status: 'ok' });
      const ready = await server.apiAs(null, 'GET', '/api/v1/health/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe('ready');
      expect(ready.body.checks.storage.ok).toBe(true);
      expect(ready.body.checks.flows).toMatchObject({ ok: true });
      expect(ready.body.checks.flows.deployed).toBeGreaterThan(0);
      expect(ready.body.checks.resume).toEqual({ ok: true, state: 'done' });
      // The old /health stays.
      expect((await server.apiAs(null, 'GET', '/api/v1/health')).body.status).toBe('ok');

      // As the admin once before (its use is audited once a minute: the next call writes nothing).
      expect((await server.api('GET', '/api/v1/health/ready')).status).toBe(200);

      // The database goes away: not ready (503), while liveness still answers.
      await server.runtime.storage.close();
      const anonymous = await server.apiAs(null, 'GET', '/api/v1/health/ready');
      expect(anonymous.status).toBe(503);
      expect(anonymous.body.checks.storage).toEqual({ ok: false, detail: 'storage unreachable' });
      const admin = await server.api('GET', '/api/v1/health/ready');
      expect(admin.status).toBe(503);
      expect(admin.body.checks.storage.detail).toMatch(/^sqlite: .*not open/i);
      expect((await server.apiAs(null, 'GET', '/api/v1/health/live')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

/** The runtime parts readiness reads, in states a real runtime passes through too briefly to probe. */
function runtimeIn(state: { ping: () => Promise<void>; resume?: Runtime['startup']['resume']; flowsLoaded?: boolean; undeployable?: string[] }): Runtime {
  return {
    startedAt: Date.now() - 5000,
    startup: { flowsLoaded: state.flowsLoaded ?? true, undeployable: state.undeployable ?? [], resume: state.resume ?? 'done' },
    storage: { dialect: 'postgres', ping: state.ping },
    executor: { deployedFlows: 2 },
  } as unknown as Runtime;
}

const admin = { kind: 'user', id: 'a', name: 'a', instanceRole: 'admin', projects: {}, via: 'session' } as const;

describe('readiness checks', () => {
  it('is not ready while interrupted runs are being resumed, nor before flows are loaded', async () => {
    const resuming = await new OperationsService(runtimeIn({ ping: async () => {}, resume: 'running' })).ready(null);
    expect(resuming).toMatchObject({ status: 'not ready', checks: { resume: { ok: false, state: 'running' } } });
    const loading = await new OperationsService(runtimeIn({ ping: async () => {}, flowsLoaded: false })).ready(null);
    expect(loading).toMatchObject({ status: 'not ready', checks: { flows: { ok: false } } });
  });

  it('gives up on a database that does not answer within the timeout', async () => {
    const hanging = new OperationsService(runtimeIn({ ping: () => new Promise(() => {}) }), 50);
    const started = Date.now();
    const answer = await hanging.ready(admin);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(answer).toMatchObject({ status: 'not ready', checks: { storage: { ok: false, detail: 'postgres: no answer within 50 ms' } } });
  });

  it('stays ready with a flow that could not be deployed, and names it to admins only', async () => {
    const service = new OperationsService(runtimeIn({ ping: async () => {}, undeployable: ['broken'] }));
    expect((await service.ready(admin)).checks.flows).toEqual({ ok: true, deployed: 2, detail: 'could not be deployed at start: broken' });
    expect((await service.ready(null)).checks.flows).toEqual({ ok: true, deployed: 2 });
    expect((await service.ready(null)).status).toBe('ready');
  });
});
