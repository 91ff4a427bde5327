/**
 * Test helpers for the palette manager's end-to-end tests (runtime and editor): a signed-up user on the local
 * verdaccio (`bash scripts/services verdaccio`) and small ESM sample packs published to it. One home, so the API test
 * and the browser test publish the same kinds of packs (good, broken install script, newer SDK, clashing type).
 */
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runNpm } from './npm-cli.ts';

export const TEST_NPM_REGISTRY = process.env.FLOWCREW_TEST_NPM_REGISTRY ?? 'http://127.0.0.1:4873/';

export interface SamplePack {
  /** The node type the pack provides. */
  type: string;
  /** What the node answers before msg.payload.name. */
  greeting?: string;
  sdkApi?: number;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  /** The pack's module throws this when loaded (installs fine, then fails to load). */
  loadError?: string;
}

export class TestRegistry {
  private constructor(
    readonly url: string,
    /** A userconfig with this test's publish token. */
    readonly npmrc: string,
    private readonly work: string,
  ) {}

  /** Signs a fresh user up on the registry and writes its token into `<work>/.npmrc`. */
  static async signUp(work: string, url = TEST_NPM_REGISTRY): Promise<TestRegistry> {
    const user = `t${randomBytes(6).toString('hex')}`;
    const res = await fetch(new URL(`-/user/org.couchdb.user:${user}`, url), {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: user, password: `pw-${randomBytes(8).toString('hex')}` }),
    }).catch((error: Error) => {
      throw new Error(`the test npm registry ${url} could not be reached (${error.message}): bash scripts/services verdaccio`);
    });
    if (!res.ok) throw new Error(`the test npm registry ${url} refused the test user (${res.status}): bash scripts/services verdaccio`);
    const npmrc = path.join(work, '.npmrc');
    await writeFile(npmrc, `registry=${url}\n//${new URL(url).host}/:_authToken=${((await res.json()) as { token: string }).token}\n`);
    return new TestRegistry(url, npmrc, work);
  }

  /** Publishes a plain (non-pack) package exporting `suffix`, usable as a pack's dependency. */
  async publishDependency(name: string, suffix: string): Promise<void> {
    const dir = await this.dir(name, '1.0.0');
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', type: 'module', main: 'index.js' }));
    await writeFile(path.join(dir, 'index.js'), `export const suffix = ${JSON.stringify(suffix)};`);
    await this.publishDir(dir);
  }

  /** Publishes a one-module ESM pack (keyword flowcrew-nodes, MIT, a README) whose node greets msg.payload.name. */
  async publishPack(name: string, version: string, pack: SamplePack): Promise<void> {
    const dir = await this.dir(name, version);
    const manifest = {
      name,
      version,
      type: 'module',
      description: `test pack ${name}`,
      keywords: ['flowcrew-nodes'],
      license: 'MIT',
      flowcrew: { nodes: ['./index.js'], sdkApi: pack.sdkApi ?? 1 },
      ...(pack.scripts ? { scripts: pack.scripts } : {}),
      ...(pack.dependencies ? { dependencies: pack.dependencies } : {}),
      peerDependencies: { '@flowcrew/sdk': '^0.1.0' },
    };
    await writeFile(path.join(dir, 'package.json'), JSON.stringify(manifest));
    await writeFile(path.join(dir, 'README.md'), `# ${name}\n\nGreets people.\n`);
    const dep = pack.dependencies ? Object.keys(pack.dependencies)[0] : undefined;
    await writeFile(
      path.join(dir, 'index.js'),
      `${pack.loadError ? `throw new Error(${JSON.stringify(pack.loadError)});` : ''}
       import { getProperty } from '@flowcrew/sdk';
       ${dep ? `import { suffix } from '${dep}';` : `const suffix = '';`}
       export const nodes = [{ type: ${JSON.stringify(pack.type)}, category: 'transform', label: 'greet', inputs: 1, outputs: 1, help: 'Greets msg.payload.name.', props: {},
         create() { return { onInput: (msg) => ({ ...msg, payload: ${JSON.stringify(pack.greeting ?? 'hello')} + ' ' + getProperty(msg, 'payload.name') + suffix }) }; } }];`,
    );
    await this.publishDir(dir);
  }

  private async dir(name: string, version: string): Promise<string> {
    const dir = path.join(this.work, 'src', `${name}-${version}`);
    await mkdir(dir, { recursive: true });
    return dir;
  }

  private async publishDir(dir: string): Promise<void> {
    await runNpm(['publish', '--registry', this.url, '--userconfig', this.npmrc, '--no-git-checks'], { cwd: dir });
  }
}

/** A failing install script (exit 3, with a line on stderr the tests look for). */
export const FAILING_INSTALL = { install: 'node -e "console.error(\'install script failed on purpose\'); process.exit(3)"' };

/**
 * An install script that holds npm until the file `gate` exists (checked every 100 ms; gives up after 5 minutes), so
 * a test can look at what was shown while npm was still working, then let it finish: no timing involved.
 */
export const gatedInstall = (gate: string) => ({
  install: `node -e "const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync(process.argv[1])) clearInterval(t); }, 100); setTimeout(() => { console.error('the test gate never opened'); process.exit(4); }, 300000).unref();" ${gate}`,
});
