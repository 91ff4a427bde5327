/**
 * Git-backed projects end to end against a REAL Git server: Debian's OpenSSH with git-shell on 127.0.0.1:2223
 * (scripts/services.d/git.sh), two Flowcrew instances as the dev and prod environments of one repository.
 * Unreachable server: the tests FAIL when CI is set and are skipped with a warning on a developer machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { gitServerReady as ready, GIT_DATA as DATA, TestRemote } from './test-remote.ts';

if (!ready && process.env.CI) {
  describe('Git-backed projects', () => {
    it('needs the Git SSH server', () => {
      throw new Error(`no Git SSH server data in ${DATA}: run \`bash scripts/services git\``);
    });
  });
} else if (!ready) {
  console.warn(`[git.test] SKIPPED: no Git SSH server data in ${DATA}; run \`bash scripts/services git\``);
  describe.skip('Git-backed projects (no Git server)', () => it('skipped', () => {}));
} else {
  let remote: TestRemote;
  let dev: TestServer;
  let prod: TestServer;
  const inRepo = (...args: string[]) => remote.inRepo(...args);

  const flow = (name: string, credentials: string) => ({
    id: 'orders',
    name,
    projectId: 'shop',
    nodes: [
      { id: 'in', type: 'inject', wires: [['call']] },
      { id: 'call', type: 'http-request', props: { method: 'GET', url: 'http://127.0.0.1:9/orders' }, credentials, wires: [['out']] },
      { id: 'out', type: 'debug' },
    ],
  });

  async function setUp(server: TestServer, branch: string, credentialName: string): Promise<string> {
    expect((await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'shop' })).status).toBe(201);
    const key = await server.api('POST', '/api/v1/credentials', { name: 'deploy key', type: 'git-ssh', fields: { privateKey: remote.privateKey }, projectId: 'shop' });
    const crm = await server.api('POST', '/api/v1/credentials', { name: credentialName, type: 'http-auth', fields: { token: `s3cret-${branch}` }, projectId: 'shop' });
    const link = await server.api('PUT', '/api/v1/projects/shop/git', { url: remote.url, branch, credentialId: key.body.id, knownHosts: remote.knownHosts });
    expect(link.status).toBe(200);
    return crm.body.id;
  }

  let devCrm = '';
  let prodCrm = '';

  beforeAll(async () => {
    remote = new TestRemote();
    // The Git server is on loopback, which the outbound guard refuses unless the administrator allows it.
    const allow = { env: TestRemote.allowEnv() };
    [dev, prod] = await Promise.all([startTestServer({}, allow), startTestServer({}, allow)]);
    devCrm = await setUp(dev, 'dev', 'crm');
    prodCrm = await setUp(prod, 'prod', 'crm-production');
  }, 60_000);

  afterAll(async () => {
    await Promise.all([dev?.stop(), prod?.stop()]);
    remote?.remove();
  });

  describe('Git-backed projects over SSH', () => {
    it('push writes one readable file per flow and credential references, never a secret', async () => {
      expect((await dev.api('POST', '/api/v1/flows', flow('Orders', devCrm))).status).toBe(201);
      const pushed = await dev.api('POST', '/api/v1/projects/shop/git/push', { message: 'first flows' });
      expect(pushed.status).toBe(200);
      expect(pushed.body.flows).toEqual(['orders']);
      expect(inRepo('log', '-1', '--format=%s|%an', 'dev').trim()).toBe('first flows|admin-token');
      const file = JSON.parse(inRepo('show', 'dev:flows/orders.json'));
      expect(file.nodes[1].credentials).toBe('crm');
      expect(file.version).toBeUndefined();
      expect(JSON.parse(inRepo('show', 'dev:credentials.json'))).toEqual({ crm: { type: 'http-auth' } });
      // git grep exits 1 when nothing matches.
      expect(spawnSync('git', ['--git-dir', remote.bare, 'grep', '-q', 's3cret', 'dev']).status).toBe(1);
    });

    it('an unchanged push commits nothing', async () => {
      const before = inRepo('rev-parse', 'dev').trim();
      const again = await dev.api('POST', '/api/v1/projects/shop/git/push', {});
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ commit: before, flows: [] });
    });

    it('promotion is an admin action: the project\'s owner may deploy but not promote, and the refusal is audited', async () => {
      const owner = await prod.userWith('shop-owner', { projects: { shop: 'owner' } });
      expect((await prod.apiAs(owner.credentials, 'POST', '/api/v1/projects/shop/git/pull', {})).status).not.toBe(403);
      const refused = await prod.apiAs(owner.credentials, 'POST', '/api/v1/projects/shop/git/promote', { from: 'dev' });
      expect(refused.status).toBe(403);
      expect(refused.body.detail).toBe('this needs the flow:promote permission, which you do not hold');
      expect(() => inRepo('rev-parse', '--verify', '-q', 'prod')).toThrow();
      const denied = (await prod.api('GET', '/api/v1/audit?outcome=denied&limit=50')).body.entries as Array<{ action: string; actor: { name: string }; targetId: string | null }>;
      expect(denied.find((e) => e.actor.name === 'shop-owner')).toMatchObject({ action: 'access.denied', targetId: 'POST /projects/{id}/git/promote' });
    });

    it('promotion refuses unbound credential references and deploys nothing, then merges, pushes and deploys once bound', async () => {
      const refused = await prod.api('POST', '/api/v1/projects/shop/git/promote', { from: 'dev' });
      expect(refused.status).toBe(422);
      expect(refused.body.detail).toContain('credential reference "crm" (type http-auth) has no binding');
      // A failed promotion is audited too, with why.
      const failed = (await prod.api('GET', '/api/v1/audit?outcome=failure&limit=50')).body.entries as Array<{ action: string; detail?: Record<string, unknown> }>;
      expect(failed.find((e) => e.action === 'git.promote')?.detail).toMatchObject({ from: 'dev', error: expect.stringContaining('has no binding') });
      expect((await prod.api('GET', '/api/v1/flows/orders')).status).toBe(404);
      expect(() => inRepo('rev-parse', '--verify', '-q', 'prod')).toThrow();

      const link = (await prod.api('GET', '/api/v1/projects/shop/git')).body;
      await prod.api('PUT', '/api/v1/projects/shop/git', { url: remote.url, branch: 'prod', credentialId: link.credentialId, knownHosts: remote.knownHosts, credentialBindings: { crm: prodCrm } });
      const promoted = await prod.api('POST', '/api/v1/projects/shop/git/promote', { from: 'dev' });
      expect(promoted.status).toBe(200);
      expect(promoted.body.deployed).toEqual(['orders']);
      expect(inRepo('rev-parse', 'prod').trim()).toBe(promoted.body.commit);
      const running = (await prod.api('GET', '/api/v1/flows/orders')).body;
      expect(running).toMatchObject({ deployed: true, deployedVersion: 1 });
      expect(running.nodes[1].credentials).toBe(prodCrm);
      // Promotion is audited: who merged what into which branch, and what it deployed.
      const audit = (await prod.api('GET', '/api/v1/audit?limit=50')).body.entries as Array<{ action: string; detail?: Record<string, unknown> }>;
      expect(audit.find((e) => e.action === 'git.promote')?.detail).toMatchObject({ from: 'dev', to: 'prod', commit: promoted.body.commit, deployed: ['orders'] });
    });

    it('a pull that conflicts with a local edit answers both sides as flow diffs and stores nothing', async () => {
      const local = (await prod.api('GET', '/api/v1/flows/orders')).body;
      expect((await prod.api('PUT', '/api/v1/flows/orders', { ...local, name: 'Orders (prod hotfix)' })).status).toBe(200);
      remote.commitFlow('prod', 'orders', (f) => {
        f.name = 'Orders (laptop)';
      });
      const pushed = await prod.api('POST', '/api/v1/projects/shop/git/push', {});
      expect(pushed.status).toBe(409);
      expect(pushed.body.detail).toContain('pull first');

      const pulled = await prod.api('POST', '/api/v1/projects/shop/git/pull', {});
      expect(pulled.status).toBe(409);
      expect(pulled.body.title).toBe('Merge conflict');
      const [conflict] = pulled.body.conflicts;
      expect(conflict.flowId).toBe('orders');
      expect(conflict.ours.flow).toEqual([{ path: '/name', before: 'Orders', after: 'Orders (prod hotfix)' }]);
      expect(conflict.theirs.flow).toEqual([{ path: '/name', before: 'Orders', after: 'Orders (laptop)' }]);
      expect((await prod.api('GET', '/api/v1/flows/orders')).body.name).toBe('Orders (prod hotfix)');
    });

    it('a pull without conflicts stores the remote change without deploying it unless asked', async () => {
      const local = (await prod.api('GET', '/api/v1/flows/orders')).body;
      await prod.api('PUT', '/api/v1/flows/orders', { ...local, name: 'Orders (laptop)' }); // now the same as the remote
      const pulled = await prod.api('POST', '/api/v1/projects/shop/git/pull', {});
      expect(pulled.status).toBe(200);
      remote.commitFlow('prod', 'orders', (f) => {
        f.description = 'from the laptop';
      });
      const second = await prod.api('POST', '/api/v1/projects/shop/git/pull', {});
      expect(second.body).toMatchObject({ flows: ['orders'], deployed: [] });
      const stored = (await prod.api('GET', '/api/v1/flows/orders')).body;
      expect(stored.description).toBe('from the laptop');
      expect(stored.deployedVersion).toBe(1);
    });

    it('a push the remote rejects is a clear 409 with the hook message; the link does not move', async () => {
      remote.refusePushes('dev is frozen for the release');
      try {
        const before = (await dev.api('GET', '/api/v1/projects/shop/git')).body.lastCommit;
        const current = (await dev.api('GET', '/api/v1/flows/orders')).body;
        await dev.api('PUT', '/api/v1/flows/orders', { ...current, name: 'Orders v2' });
        const pushed = await dev.api('POST', '/api/v1/projects/shop/git/push', {});
        expect(pushed.status).toBe(409);
        expect(pushed.body.title).toBe('Push rejected');
        expect(pushed.body.detail).toContain('dev is frozen for the release');
        expect((await dev.api('GET', '/api/v1/projects/shop/git')).body.lastCommit).toBe(before);
      } finally {
        remote.allowPushes();
      }
    });

    it('a promotion whose merge conflicts answers the flow diffs and deploys nothing', async () => {
      expect((await dev.api('POST', '/api/v1/projects/shop/git/push', {})).status).toBe(200); // 'Orders v2', now allowed
      const before = inRepo('rev-parse', 'prod').trim();
      const promoted = await prod.api('POST', '/api/v1/projects/shop/git/promote', { from: 'dev' });
      expect(promoted.status).toBe(409);
      expect(promoted.body.detail).toContain('promoting "dev" into "prod" conflicts in flow "orders"');
      const [conflict] = promoted.body.conflicts;
      expect(conflict.ours.flow).toEqual([
        { path: '/description', after: 'from the laptop' },
        { path: '/name', before: 'Orders', after: 'Orders (laptop)' },
      ]);
      expect(conflict.theirs.flow).toEqual([{ path: '/name', before: 'Orders', after: 'Orders v2' }]);
      expect(inRepo('rev-parse', 'prod').trim()).toBe(before);
      const running = (await prod.api('GET', '/api/v1/flows/orders')).body;
      expect([running.name, running.deployedVersion]).toEqual(['Orders (laptop)', 1]);
    });

    it('refuses Git URLs that would read local files or run commands, and remotes the outbound guard refuses', async () => {
      for (const bad of ['file:///etc', '/var/lib/flowcrew-git/home/repos', 'ext::sh -c touch% /tmp/pwned', 'http://127.0.0.1/x.git']) {
        const answer = await dev.api('PUT', '/api/v1/projects/shop/git', { url: bad, branch: 'dev' });
        expect(answer.status, bad).toBe(422);
        expect(answer.body.errors[0].pointer).toBe('/url');
      }
      await dev.api('POST', '/api/v1/projects', { id: 'inner', name: 'inner' });
      await dev.api('PUT', '/api/v1/projects/inner/git', { url: 'ssh://git@127.0.0.1:22/x.git', branch: 'dev' });
      const refused = await dev.api('POST', '/api/v1/projects/inner/git/pull', {});
      expect(refused.status).toBe(422);
      expect(refused.body.detail).toContain('the Git remote 127.0.0.1:22 may not be reached from here');
    });

    it('a wrong SSH key is a clear 502 naming the credential', async () => {
      const keyFile = path.join(remote.scratch, 'wrong');
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', keyFile]);
      const wrong = await dev.api('POST', '/api/v1/credentials', { name: 'wrong key', type: 'git-ssh', fields: { privateKey: readFileSync(keyFile, 'utf8') }, projectId: 'shop' });
      await dev.api('PUT', '/api/v1/projects/shop/git', { url: remote.url, branch: 'dev', credentialId: wrong.body.id, knownHosts: remote.knownHosts });
      const pushed = await dev.api('POST', '/api/v1/projects/shop/git/push', {});
      expect(pushed.status).toBe(502);
      expect(pushed.body.title).toBe('Git authentication failed');
      expect(pushed.body.detail).toContain('Permission denied');
    });
  });
}
