/**
 * End to end (issue 14, Git-backed projects in the editor) against the REAL Git server (OpenSSH + git-shell,
 * `bash scripts/services git`): Promote merges another environment's branch and deploys; Push commits the flow, Pull
 * with deploy stores and deploys a commit made elsewhere;
 * a push the remote's hook rejects shows the hook's message and moves nothing; a pull
 * that conflicts with a local edit shows what each side changed in the flow, and stores nothing.
 * Screenshots in test-artifacts/e2e/versions-git-*.png. Without the server: fails in CI, skipped elsewhere.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { gitServerReady, GIT_DATA, TestRemote } from '../../runtime/src/git/test-remote.ts';
import { startTestServer, type TestServer } from '../../runtime/src/testing/server.ts';
import { createAdmin, signedInEditor } from './auth.ts';
import { screenshot } from './browser.ts';

if (!gitServerReady && process.env.CI) {
  describe('Git in the editor', () => it('needs the Git SSH server', () => expect.fail(`no Git SSH server data in ${GIT_DATA}: run \`bash scripts/services git\``)));
} else if (!gitServerReady) {
  console.warn(`[versions-git] SKIPPED: no Git SSH server data in ${GIT_DATA}; run \`bash scripts/services git\``);
  describe.skip('Git in the editor (no Git server)', () => it('skipped', () => {}));
} else {
  let remote: TestRemote;
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  const shot = (name: string) => screenshot(page, 'e2e', `versions-git-${name}`);
  const gitSection = () => page.locator('[data-test="git"]');

  /** Stores a changed copy of the flow through the API (another tab, a script): the editor reloads it. */
  async function editHere(change: (flow: Record<string, unknown>) => void): Promise<void> {
    const current = (await server.api('GET', '/api/v1/flows/orders')).body;
    change(current);
    const saved = await server.api('PUT', '/api/v1/flows/orders', current);
    expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  }

  describe('Git in the editor, against a real Git server', () => {
    beforeAll(async () => {
      remote = new TestRemote();
      server = await startTestServer({}, { env: TestRemote.allowEnv() });
      expect((await server.api('POST', '/api/v1/projects', { id: 'shop', name: 'shop' })).status).toBe(201);
      const key = await server.api('POST', '/api/v1/credentials', { name: 'deploy key', type: 'git-ssh', fields: { privateKey: remote.privateKey }, projectId: 'shop' });
      expect((await server.api('PUT', '/api/v1/projects/shop/git', { url: remote.url, branch: 'dev', credentialId: key.body.id, knownHosts: remote.knownHosts })).status).toBe(200);
      const flow = { id: 'orders', name: 'Orders', projectId: 'shop', nodes: [{ id: 'in', type: 'inject', position: { x: 100, y: 100 }, props: {}, wires: [['out']] }, { id: 'out', type: 'debug', position: { x: 360, y: 100 }, props: {} }] };
      expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
      const first = await server.api('POST', '/api/v1/projects/shop/git/push', {});
      expect(first.status, JSON.stringify(first.body)).toBe(200);

      await createAdmin(server);
      ({ browser, page } = await signedInEditor(server));
      await page.goto(`${server.url}/#/flows/orders`);
      await page.waitForFunction(() => (window as any).flowcrew?.view?.graph?._nodes.length === 2);
      await page.click('[data-test="tab-versions"]');
      await page.locator('[data-test="git-link"]').filter({ hasText: 'branch dev' }).waitFor();
    }, 120_000);

    afterEach(async (context) => {
      remote?.allowPushes();
      if (context.task.result?.state === 'fail' && page) await shot(`failed-${context.task.id}`);
    });

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      remote?.remove();
    });

    it('Promote merges another environment’s branch into this one and deploys what changed', async () => {
      remote.inRepo('branch', 'staging', 'dev');
      remote.commitFlow('staging', 'orders', (f) => (f.description = 'tested on staging'));
      await gitSection().locator('input[aria-label="Promote from branch"]').fill('staging');
      await page.click('[data-test="git-promote"]');
      await gitSection().locator('[role="status"]').filter({ hasText: 'promote: 1 flow(s) updated, 1 deployed' }).waitFor({ timeout: 60_000 });
      const stored = (await server.api('GET', '/api/v1/flows/orders')).body;
      expect(stored).toMatchObject({ description: 'tested on staging', deployed: true, deployedVersion: stored.version });
      // The merge is on this environment's branch in Git too.
      expect(JSON.parse(remote.inRepo('show', 'dev:flows/orders.json')).description).toBe('tested on staging');
      await shot('00-promoted');
    });

    it('Push commits the flow from the editor; Pull with "and deploy" stores and deploys a commit made elsewhere', async () => {
      const status = gitSection().locator('[role="status"]');
      await editHere((f) => (f.description = 'edited here'));
      await page.click('[data-test="git-push"]');
      await status.filter({ hasText: 'push: 1 flow(s) committed' }).waitFor({ timeout: 60_000 });
      expect(JSON.parse(remote.inRepo('show', 'dev:flows/orders.json')).description).toBe('edited here');

      remote.commitFlow('dev', 'orders', (f) => (f.description = 'edited in Git'));
      await gitSection().locator('input[type="checkbox"]').check();
      await page.click('[data-test="git-pull"]');
      await status.filter({ hasText: 'pull: 1 flow(s) updated, 1 deployed' }).waitFor({ timeout: 60_000 });
      const stored = (await server.api('GET', '/api/v1/flows/orders')).body;
      expect(stored).toMatchObject({ description: 'edited in Git', deployed: true, deployedVersion: stored.version });
      await shot('00-push-then-pull-and-deploy');
      await gitSection().locator('input[type="checkbox"]').uncheck();
    });

    it('a push the remote rejects shows the hook’s message, and the remote branch does not move', async () => {
      const before = remote.inRepo('rev-parse', 'dev').trim();
      await editHere((f) => (f.name = 'Orders v2'));
      remote.refusePushes('dev is frozen for the release');
      await page.click('[data-test="git-push"]');
      const alert = gitSection().locator('[role="alert"]');
      await alert.waitFor({ timeout: 60_000 });
      expect(await alert.innerText()).toMatch(/Push rejected: .*dev is frozen for the release/s);
      expect(remote.inRepo('rev-parse', 'dev').trim()).toBe(before);
      await shot('01-push-rejected');
    });

    it('a pull that conflicts with a local edit shows both sides as flow diffs and stores nothing', async () => {
      remote.commitFlow('dev', 'orders', (f) => (f.name = 'Orders (laptop)'));
      await page.click('[data-test="git-pull"]');
      const conflict = page.locator('[data-test="git-conflict"]');
      await conflict.waitFor({ timeout: 60_000 });
      const text = await conflict.innerText();
      expect(text).toContain('flow orders');
      expect(text).toContain('flow /name: "Orders" → "Orders v2"'); // here
      expect(text).toContain('flow /name: "Orders" → "Orders (laptop)"'); // in Git
      expect(await gitSection().locator('[role="alert"]').innerText()).toMatch(/Merge conflict/);
      expect((await server.api('GET', '/api/v1/flows/orders')).body.name).toBe('Orders v2');
      await shot('02-pull-conflict');
    });
  });
}
