/**
 * Human in the loop against a real runtime (SQLite in a temp dir, real HTTP): a run waits in status `waiting`,
 * survives a restart, is answered by API, by a signed link or by its timeout, and resumes where it stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestServer, type TestServer } from '../testing/server.ts';

// The sweep (timeouts, escalations) runs often here so the timeout test is short.
process.env.FLOWCREW_WAIT_SWEEP_MS = '100';

const approvalFlow = (id: string, props: Record<string, unknown> = {}) => ({
  id,
  name: id,
  nodes: [
    { id: 'go', type: 'inject', wires: [['ask']] },
    { id: 'ask', type: 'human-input', props: { title: 'Ship it?', ...props }, wires: [['yes'], ['no']] },
    { id: 'yes', type: 'debug' },
    { id: 'no', type: 'debug' },
  ],
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function deploy(server: TestServer, flow: ReturnType<typeof approvalFlow>): Promise<void> {
  expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
  expect((await server.api('POST', `/api/v1/flows/${flow.id}/deploy`)).status).toBe(200);
}

/** Start a run and wait until it is parked on its question. */
async function parkedRun(server: TestServer, flowId: string, payload: unknown = { order: 42 }): Promise<{ runId: string; wait: any }> {
  const started = await server.api('POST', `/api/v1/flows/${flowId}/runs`, { input: { payload } });
  expect(started.status).toBe(202);
  const runId = started.body.runId as string;
  await until('the run to wait', async () => ((await server.api('GET', `/api/v1/runs/${runId}`)).body.status === 'waiting' ? true : undefined));
  const waits = await server.api('GET', `/api/v1/waits?runId=${runId}`);
  expect(waits.body).toHaveLength(1);
  return { runId, wait: waits.body[0] };
}

const nodesRun = async (server: TestServer, runId: string) => (await server.api('GET', `/api/v1/runs/${runId}`)).body.invocations.map((i: { nodeId: string }) => i.nodeId);

describe('human-input: waiting runs', () => {
  let dataDir: string;
  let server: TestServer;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-waiting-'));
    server = await startTestServer({ dataDir });
    await deploy(server, approvalFlow('approve'));
  });
  afterAll(async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('waits with no process holding it, survives a restart, and resumes where it stopped when answered by API', async () => {
    const { runId, wait } = await parkedRun(server, 'approve');
    expect(wait).toMatchObject({ status: 'open', title: 'Ship it?', context: { order: 42 }, mayAnswer: true, schema: { required: ['approved'] } });
    expect((await server.api('GET', '/api/v1/health')).body.activeRuns ?? 0).toBe(0);

    await server.stop();
    server = await startTestServer({ dataDir });
    // Still parked after the start (not re-run, not failed), and the question is still there.
    expect((await server.api('GET', `/api/v1/runs/${runId}`)).body.status).toBe('waiting');
    const invocationsBefore = (await server.api('GET', `/api/v1/runs/${runId}`)).body.invocations;
    expect(invocationsBefore.find((i: { nodeId: string }) => i.nodeId === 'ask')).toMatchObject({ status: 'pending', attempt: 0 });

    const answered = await server.api('POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/answer`, { answer: { approved: true, comment: 'fine' } });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ status: 'answered', answeredVia: 'api', answer: { approved: true, comment: 'fine' } });
    const run = await server.waitRun(runId);
    expect(run.status).toBe('succeeded');
    expect(await nodesRun(server, runId)).toEqual(expect.arrayContaining(['go', 'ask', 'yes']));
    expect(await nodesRun(server, runId)).not.toContain('no');
    const ask = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'ask');
    expect(ask.outputs[0].msg.approval).toMatchObject({ approved: true, by: 'admin-token', via: 'api', timedOut: false });

    // A second answer is refused: a question is answered once.
    const again = await server.api('POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/answer`, { answer: { approved: false } });
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/already answered/);
    // Audited.
    const audit = await server.api('GET', '/api/v1/audit?action=wait.answer&limit=10');
    expect(audit.body.entries.some((e: { outcome: string; targetId: string }) => e.outcome === 'success' && e.targetId === wait.id)).toBe(true);
  });

  it('refuses an answer that does not match the form, and routes a rejection to the second output', async () => {
    const { runId, wait } = await parkedRun(server, 'approve');
    const bad = await server.api('POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/answer`, { answer: { approved: 'yes' } });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]).toMatchObject({ pointer: '/approved' });
    expect((await server.api('POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/answer`, { answer: { approved: false } })).status).toBe(200);
    expect((await server.waitRun(runId)).status).toBe('succeeded');
    expect(await nodesRun(server, runId)).toContain('no');
  });

  it('answers through a signed link once; an altered or expired link is refused', async () => {
    const { runId, wait } = await parkedRun(server, 'approve');
    const link = await server.api('POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/link`);
    expect(link.status).toBe(200);
    expect(link.body.url).toContain('#/answer/');
    const token = link.body.token as string;
    const seen = await server.apiAs(null, 'GET', `/api/v1/waits/link/${token}`);
    expect(seen.body).toMatchObject({ id: wait.id, mayAnswer: true });
    expect((await server.apiAs(null, 'POST', `/api/v1/waits/link/${token.slice(0, -3)}abc/answer`, { answer: { approved: true } })).status).toBe(401);
    const answered = await server.apiAs(null, 'POST', `/api/v1/waits/link/${token}/answer`, { answer: { approved: true } });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ answeredVia: 'link', answeredBy: 'signed link' });
    expect((await server.waitRun(runId)).status).toBe('succeeded');
    // Single use.
    expect((await server.apiAs(null, 'POST', `/api/v1/waits/link/${token}/answer`, { answer: { approved: false } })).status).toBe(409);

    // Expired: signed with the runtime's key, but already past its expiry.
    const second = await parkedRun(server, 'approve');
    const expired = await server.runtime.waiting!.links.sign(second.wait.id, 1_000, Date.now() - 60_000);
    const refused = await server.apiAs(null, 'POST', `/api/v1/waits/link/${expired}/answer`, { answer: { approved: true } });
    expect(refused.status).toBe(410);
    expect(refused.body.detail).toMatch(/expired/);
    expect((await server.api('POST', `/api/v1/runs/${second.runId}/cancel`)).status).toBe(200);
    expect((await server.api('GET', `/api/v1/waits/${encodeURIComponent(second.wait.id)}`)).body.status).toBe('cancelled');
  });

  it('closes with the chosen outcome at the timeout, after escalating to another role', async () => {
    await deploy(server, approvalFlow('timeout', { timeoutSeconds: 2, onTimeout: 'approve', users: ['alice'], escalateAfterSeconds: 1, escalateToRoles: ['operator'] }));
    const started = await server.api('POST', '/api/v1/flows/timeout/runs', { input: { payload: 1 } });
    const run = await server.waitRun(started.body.runId);
    expect(run.status).toBe('succeeded');
    const ask = run.invocations.find((i: { nodeId: string }) => i.nodeId === 'ask');
    expect(ask.outputs[0].msg.approval).toMatchObject({ approved: true, timedOut: true, via: 'timeout', by: null });
    const [wait] = (await server.api('GET', `/api/v1/waits?runId=${run.id}`)).body;
    expect(wait).toMatchObject({ status: 'timed_out', assignees: { users: ['alice'], roles: ['operator'] } });
    expect(wait.escalatedAt).toBeGreaterThan(0);
    const audit = (await server.api('GET', '/api/v1/audit?action=wait.&limit=50')).body.entries.filter((e: { targetId: string }) => e.targetId === wait.id);
    expect(audit.map((e: { action: string }) => e.action).sort()).toEqual(['wait.escalate', 'wait.timeout']);
  });

  it('parks only once every other branch has finished, and does not run those again on resume', async () => {
    await deploy(server, {
      id: 'branches',
      name: 'branches',
      nodes: [
        { id: 'go', type: 'inject', wires: [['ask', 'slow']] },
        { id: 'ask', type: 'human-input', props: { title: 'Both?' }, wires: [['yes'], ['no']] },
        { id: 'slow', type: 'delay', props: { pauseType: 'delay', timeout: 300, timeoutUnits: 'milliseconds' }, wires: [['after']] },
        { id: 'yes', type: 'debug' },
        { id: 'no', type: 'debug' },
        { id: 'after', type: 'debug' },
      ],
    } as never);
    const { runId, wait } = await parkedRun(server, 'branches');
    // Parked only after the delay branch finished: its nodes are done and recorded.
    expect(await nodesRun(server, runId)).toEqual(expect.arrayContaining(['slow', 'after']));
    expect((await server.api('POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/answer`, { answer: { approved: true } })).status).toBe(200);
    const run = await server.waitRun(runId);
    expect(run.status).toBe('succeeded');
    const count = (id: string) => run.invocations.filter((i: { nodeId: string }) => i.nodeId === id).length;
    expect([count('ask'), count('slow'), count('after'), count('yes')]).toEqual([1, 1, 1, 1]);
  });

  it('lets only the named assignees (or an owner/admin) answer', async () => {
    await deploy(server, approvalFlow('assigned', { roles: ['editor'] }));
    const operator = await server.userWith('waiting-operator', { projects: { default: 'operator' } });
    const editor = await server.userWith('waiting-editor', { projects: { default: 'editor' } });
    const { runId, wait } = await parkedRun(server, 'assigned');
    const listed = await server.apiAs(operator.credentials, 'GET', '/api/v1/waits');
    expect(listed.body.find((w: { id: string }) => w.id === wait.id)).toMatchObject({ mayAnswer: false });
    const refused = await server.apiAs(operator.credentials, 'POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/answer`, { answer: { approved: true } });
    expect(refused.status).toBe(403);
    const answered = await server.apiAs(editor.credentials, 'POST', `/api/v1/waits/${encodeURIComponent(wait.id)}/answer`, { answer: { approved: true } });
    expect(answered.status).toBe(200);
    expect(answered.body).toMatchObject({ answeredBy: 'waiting-editor', answeredVia: 'editor' });
    expect((await server.waitRun(runId)).status).toBe('succeeded');
  });
});
