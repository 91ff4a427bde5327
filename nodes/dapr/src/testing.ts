/**
 * Test support: a real daprd (built by `bash scripts/services dapr` into .cache/dapr/bin) started per test file with
 * its own app id, free ports and a resources folder with Dapr's state.redis and pubsub.redis components on the Redis
 * of scripts/services (127.0.0.1:6379). Nothing is mocked: without the binary the Dapr tests skip, saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const DAPRD = process.env.FLOWCREW_DAPRD ?? fileURLToPath(new URL('../../../.cache/dapr/bin/daprd-1.14.0', import.meta.url));
export const REDIS_PORT = Number(process.env.FLOWCREW_REDIS_PORT ?? 6379);

/** Why the Dapr tests cannot run here, or undefined when they can. */
export const daprdMissing: string | undefined = existsSync(DAPRD)
  ? undefined
  : `daprd is not built (${DAPRD}); run \`bash scripts/services dapr\` (a Go build of several minutes, see docs/dapr.md)`;

export interface Daprd {
  appId: string;
  httpPort: number;
  grpcPort: number;
  /** What daprd printed (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const components = (appId: string) => `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.redis
  version: v1
  metadata:
    - name: redisHost
      value: 127.0.0.1:${REDIS_PORT}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: pubsub
spec:
  type: pubsub.redis
  version: v1
  metadata:
    - name: redisHost
      value: 127.0.0.1:${REDIS_PORT}
    - name: consumerID
      value: ${appId}
    # An event given back (RETRY) or left unanswered is claimed again after 1 s instead of 60 s (plain numbers are
    # milliseconds; the component ignores a duration string for redeliverInterval).
    - name: processingTimeout
      value: "1000"
    - name: redeliverInterval
      value: "1000"
`;

/** Start a daprd with a unique app id; resolves when its HTTP API answers healthz. Stop it in afterAll. */
export async function startDaprd(prefix = 'flowcrew-test'): Promise<Daprd> {
  const appId = `${prefix}-${randomBytes(4).toString('hex')}`;
  const dir = await mkdtemp(join(tmpdir(), 'flowcrew-dapr-'));
  await writeFile(join(dir, 'components.yaml'), components(appId));
  const [httpPort, grpcPort, internalPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  let output = '';
  const child: ChildProcess = spawn(
    DAPRD,
    [
      '--app-id', appId,
      '--mode', 'standalone',
      '--resources-path', dir,
      '--dapr-listen-addresses', '127.0.0.1',
      '--dapr-http-port', String(httpPort),
      '--dapr-grpc-port', String(grpcPort),
      '--dapr-internal-grpc-port', String(internalPort),
      '--metrics-port', String(metricsPort),
      '--dapr-graceful-shutdown-seconds', '1',
      '--log-level', 'info',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } },
  );
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (!gone) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  // A first start on a loaded machine can take a while: wait for the condition, not a fixed time.
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (gone) {
      await stop();
      throw new Error(`daprd exited while starting:\n${output.slice(-3000)}`);
    }
    const healthy = await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 204,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`daprd did not become healthy within 60 s:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { appId, httpPort, grpcPort, output: () => output, stop };
}
