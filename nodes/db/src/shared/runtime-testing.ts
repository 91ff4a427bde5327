/**
 * Test support for the pack inside a real runtime (its API, vault, executor and resource pools): a credential, a
 * deployed inject → node flow, many runs straight through the runtime (the API's rate limit would slow them), and
 * the run's output. Used by the connection-leak tests of each database.
 */
import { expect } from 'vitest';
import { startTestServer, type TestServer } from '../../../../runtime/src/testing/server.ts';

export type { TestServer };

export function startRuntime(): Promise<TestServer> {
  return startTestServer({ outboundAllow: ['127.0.0.1'] });
}

export async function createCredential(server: TestServer, type: string, fields: Record<string, unknown>): Promise<string> {
  const created = await server.api('POST', '/api/v1/credentials', { name: `${type} ${Math.random().toString(36).slice(2, 8)}`, type, fields });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  return created.body.id;
}

/** Save and deploy `inject → db` with the node's type, credential and props. */
export async function deployFlow(server: TestServer, id: string, type: string, credential: string, props: Record<string, unknown>): Promise<void> {
  const doc = { id, name: id, nodes: [{ id: 'start', type: 'inject', wires: [['db']] }, { id: 'db', type, credentials: credential, props }] };
  const saved = await server.api('POST', '/api/v1/flows', doc);
  expect(saved.status, JSON.stringify(saved.body)).toBe(201);
  await redeploy(server, id);
}

export async function redeploy(server: TestServer, id: string): Promise<void> {
  const deployed = await server.api('POST', `/api/v1/flows/${id}/deploy`);
  expect(deployed.status, JSON.stringify(deployed.body)).toBe(200);
}

export async function undeploy(server: TestServer, id: string): Promise<void> {
  const res = await server.api('POST', `/api/v1/flows/${id}/undeploy`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** The db node's output message of a finished run. */
export const output = (finished: any) => finished.invocations.find((i: any) => i.nodeId === 'db')?.outputs?.[0]?.msg;

/** `count` runs of the flow, 50 at a time; each must succeed, and `check` sees each one's output payload. */
export async function runMany(server: TestServer, flowId: string, count: number, check: (payload: unknown, i: number) => void): Promise<void> {
  for (let done = 0; done < count; done += 50) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(50, count - done) }, async (_, i) => {
        const { runId } = await server.runtime.startRun(flowId, { input: { payload: done + i } });
        await server.runtime.waitForRun(runId);
        return server.runtime.getRun(runId);
      }),
    );
    for (const [i, finished] of batch.entries()) {
      expect(finished.status, JSON.stringify(finished.error ?? finished)).toBe('succeeded');
      check(output(finished)?.payload, done + i);
    }
  }
}

/** Pools the runtime holds for a credential right now. */
export const poolsOf = (server: TestServer, credentialId: string) => server.runtime.executor.nodeServices.pools.list().filter((r) => r.credential?.id === credentialId);
