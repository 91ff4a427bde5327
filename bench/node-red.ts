/**
 * The two servers of the webhook comparison, each in its own process (the load generator never shares their event
 * loop): Node-RED 4 from .cache/node-red (`scripts/services nodered`) with the order flow as a Node-RED export, and
 * Flowcrew started by its own CLI (`flowcrew start`, as deployed) with the same flow imported from flows/.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const repoRoot = path.resolve(import.meta.dirname, '..');

export interface BenchServer {
  name: string;
  url: string;
  pid: number;
  /** Resident set size now, from /proc (MB). */
  rssMb(): number;
  /** CPU time the process has used so far (user + system, seconds), from /proc. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/** The order flow as a Node-RED export: http in → change (JSONata) → switch → change → http response. */
export const NODE_RED_ORDER_FLOW = [
  { id: 'tab', type: 'tab', label: 'orders' },
  { id: 'in', type: 'http in', z: 'tab', url: '/orders', method: 'post', wires: [['total']] },
  {
    id: 'total',
    type: 'change',
    z: 'tab',
    rules: [{ t: 'set', p: 'payload', pt: 'msg', to: "{ 'orderId': payload.id, 'customer': payload.customer, 'items': $count(payload.items), 'total': $round($sum(payload.items.(qty * price)), 2) }", tot: 'jsonata' }],
    wires: [['route']],
  },
  { id: 'route', type: 'switch', z: 'tab', property: 'payload.total', propertyType: 'msg', rules: [{ t: 'gte', v: '100', vt: 'num' }, { t: 'else' }], checkall: 'false', outputs: 2, wires: [['review'], ['auto']] },
  { id: 'review', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload.status', pt: 'msg', to: 'review', tot: 'str' }], wires: [['out']] },
  { id: 'auto', type: 'change', z: 'tab', rules: [{ t: 'set', p: 'payload.status', pt: 'msg', to: 'approved', tot: 'str' }], wires: [['out']] },
  { id: 'out', type: 'http response', z: 'tab', statusCode: '', headers: {}, wires: [] },
];

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

function cpuOf(pid: number): number {
  // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the command name in parentheses.
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function waitUntilAnswering(url: string, body: string, child: ChildProcess, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited with code ${child.exitCode} before answering`);
    const ok = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not answer ${url} within 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
}

const freePort = () => 18_000 + Math.floor(Math.random() * 2_000);

/** Node-RED 4 with the order flow; `nodeArgs` go before red.js (bench/tail.ts preloads its probe), `env` is added. */
export async function startNodeRed(body: string, options: { nodeArgs?: string[]; env?: Record<string, string> } = {}): Promise<BenchServer> {
  const home = path.join(repoRoot, '.cache', 'node-red');
  if (!existsSync(path.join(home, 'node_modules', 'node-red', 'red.js'))) throw new Error('Node-RED is not installed: run `bash scripts/services nodered`');
  const userDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-nr-'));
  const port = freePort();
  await writeFile(path.join(userDir, 'flows.json'), JSON.stringify(NODE_RED_ORDER_FLOW));
  await writeFile(path.join(userDir, 'settings.js'), `module.exports = { uiPort: ${port}, uiHost: '127.0.0.1', flowFile: 'flows.json', logging: { console: { level: 'warn' } }, editorTheme: { tours: false } };`);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), path.join(home, 'node_modules', 'node-red', 'red.js'), '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], {
    stdio: 'ignore',
    env: { ...process.env, ...options.env },
  });
  const url = `http://127.0.0.1:${port}/orders`;
  const stop = stopper(child, userDir);
  try {
    await waitUntilAnswering(url, body, child, 'Node-RED');
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: 'node-red', url, pid: child.pid!, rssMb: () => rssOf(child.pid!), cpuSeconds: () => cpuOf(child.pid!), stop };
}

/** Flowcrew through its CLI, on SQLite in a temp data dir (or `databaseUrl`), run history as `retention`. */
export async function startFlowcrew(
  body: string,
  options: { retention?: string; databaseUrl?: string; root?: string; nodeArgs?: string[]; env?: Record<string, string>; tsx?: boolean } = {},
): Promise<BenchServer> {
  // `root`: another checkout of Flowcrew (bench/rss.ts compares revisions); `nodeArgs` go before the CLI's module.
  const root = options.root ?? repoRoot;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-bench-fc-'));
  const port = freePort();
  const cli = await flowcrewCli(root, options.tsx === true);
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...cli, 'start', '--port', String(port), '--data-dir', dataDir], {
    cwd: root,
    env: {
      ...process.env,
      ...options.env,
      FLOWCREW_FLOWS_DIR: path.join(root, 'flows'),
      FLOWCREW_LOG_LEVEL: 'warn',
      FLOWCREW_RETENTION: options.retention ?? 'all',
      DATABASE_URL: options.databaseUrl ?? '',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}/webhook/orders`;
  const stop = stopper(child, dataDir);
  try {
    await waitUntilAnswering(url, body, child, 'Flowcrew');
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: `flowcrew (history=${options.retention ?? 'all'}${cli[0] === '--import' ? ', tsx' : ''})`, url, pid: child.pid!, rssMb: () => rssOf(child.pid!), cpuSeconds: () => cpuOf(child.pid!), stop };
}

/**
 * The CLI as `npm start` runs it: compiled to JavaScript (runtime/src/cli/compile.ts, into <root>/dist/compiled) when
 * the checkout has the compiler, else (older revisions, or `tsx`) the TypeScript sources through tsx.
 */
async function flowcrewCli(root: string, tsx: boolean): Promise<string[]> {
  const compiler = path.join(root, 'runtime', 'src', 'cli', 'compile.ts');
  if (tsx || !existsSync(compiler)) return ['--import', 'tsx', path.join(root, 'runtime', 'src', 'cli', 'main.ts')];
  const { compile } = (await import(pathToFileURL(compiler).href)) as { compile(out?: string): Promise<string> };
  const out = await compile(path.join(root, 'dist', 'compiled'));
  return [path.join(out, 'runtime', 'src', 'cli', 'main.js')];
}
