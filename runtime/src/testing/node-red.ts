/**
 * A real Node-RED (installed from npm into .cache/node-red by `scripts/services nodered`) running an export, for the
 * tests that compare Flowcrew's answers with Node-RED's. One home for how it is started, waited for and removed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '@flowcrew/sdk/testing';

export { freePort };

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
export const nodeRedMain = path.join(repoRoot, '.cache', 'node-red', 'node_modules', 'node-red', 'red.js');
export const nodeRedInstalled = existsSync(nodeRedMain);

/** In CI a missing Node-RED is a failure (scripts/services installs it); elsewhere the comparison is skipped. */
export function requireNodeRedInCi(): void {
  if (!nodeRedInstalled && process.env.CI) throw new Error(`Node-RED is not installed at ${nodeRedMain}: run scripts/services`);
}

export interface NodeRedStartOptions {
  /** flows_cred.json, unencrypted (the settings then say credentialSecret: false). */
  credentials?: Record<string, unknown>;
  /** Keep Node-RED's log (level info) in `log` instead of errors only, discarded. */
  keepLog?: boolean;
}

export class NodeRedUnderTest {
  log = '';
  private process: ChildProcess | undefined;

  private constructor(
    /** Node-RED's user directory: flows, settings, and anything a test wants next to them (removed by stop). */
    readonly userDir: string,
    readonly port: number,
  ) {}

  /** The user directory and port, before starting: a test may need paths inside it for the export. */
  static async prepare(tmpPrefix: string): Promise<NodeRedUnderTest> {
    return new NodeRedUnderTest(await mkdtemp(path.join(tmpdir(), tmpPrefix)), await freePort());
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts Node-RED on the export; it is ready once `until` says so (it takes seconds, more on a loaded machine). */
  async start(flows: unknown[], options: NodeRedStartOptions = {}): Promise<void> {
    await writeFile(path.join(this.userDir, 'flows.json'), JSON.stringify(flows));
    if (options.credentials) await writeFile(path.join(this.userDir, 'flows_cred.json'), JSON.stringify(options.credentials));
    const settings = [`uiPort: ${this.port}`, "uiHost: '127.0.0.1'", "flowFile: 'flows.json'", ...(options.credentials ? ['credentialSecret: false'] : []), `logging: { console: { level: '${options.keepLog ? 'info' : 'error'}' } }`];
    await writeFile(path.join(this.userDir, 'settings.js'), `module.exports = { ${settings.join(', ')} };`);
    this.process = spawn(process.execPath, [nodeRedMain, '--userDir', this.userDir, '--settings', path.join(this.userDir, 'settings.js')], {
      stdio: ['ignore', options.keepLog ? 'pipe' : 'ignore', 'ignore'],
    });
    this.process.stdout?.on('data', (d) => (this.log += d));
  }

  /** Waits until `ready` answers true (a flow of the export answering, say), asking every 250 ms. */
  async until(ready: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`Node-RED did not start within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop(): Promise<void> {
    this.process?.kill('SIGTERM');
    await rm(this.userDir, { recursive: true, force: true });
  }
}

/** One HTTP exchange as the comparison tests see it: the status and the body (JSON when it parses, else the text). */
export async function httpExchange(url: string, request: { method?: string; body?: unknown; contentType?: string } = {}): Promise<{ status: number; body: unknown }> {
  const { method = 'POST', body, contentType = 'application/json' } = request;
  const sent = body === undefined ? {} : { headers: { 'content-type': contentType }, body: typeof body === 'string' ? body : JSON.stringify(body) };
  const res = await fetch(url, { method, ...sent });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}
