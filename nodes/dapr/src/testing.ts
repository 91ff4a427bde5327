/**
 * Test support: a real daprd (built by `bash scripts/services dapr` into .cache/dapr/bin) started per test file with
 * its own app id, free ports and a resources folder with Dapr's state.redis and pubsub.redis components on the Redis
 * of scripts/services (127.0.0.1:6379). Nothing is mocked: without the binary the Dapr tests skip, saying why.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@flowcrew/sdk/testing';

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
  /** Kill it (SIGKILL, as a crash) and start it again on the same ports and app id. */
  restart(): Promise<void>;
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
  let process_: Running | undefined;
  const launch = async () => {
    process_ = spawnDaprd(appId, dir, [httpPort, grpcPort, internalPort, metricsPort], (chunk) => {
      output = (output + chunk).slice(-20_000);
    });
    await untilHealthy(process_, httpPort, () => output);
  };
  const stop = async () => {
    await process_?.kill('SIGTERM');
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await launch();
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    appId,
    httpPort,
    grpcPort,
    output: () => output,
    stop,
    async restart() {
      await process_?.kill('SIGKILL');
      await launch();
    },
  };
}

interface Running {
  gone(): boolean;
  kill(signal: NodeJS.Signals): Promise<void>;
}

function spawnDaprd(appId: string, dir: string, [httpPort, grpcPort, internalPort, metricsPort]: number[], print: (chunk: string) => void): Running {
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
  child.stdout!.on('data', (chunk: Buffer) => print(chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => print(chunk.toString()));
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => ((gone = true), resolve())));
  return {
    gone: () => gone,
    async kill(signal) {
      if (gone) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** A first start on a loaded machine can take a while: wait for the condition, not a fixed time. */
async function untilHealthy(running: Running, httpPort: number, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (running.gone()) throw new Error(`daprd exited while starting:\n${output().slice(-3000)}`);
    const healthy = await fetch(`http://127.0.0.1:${httpPort}/v1.0/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 204,
      () => false,
    );
    if (healthy) return;
    if (Date.now() > deadline) throw new Error(`daprd did not become healthy within 60 s:\n${output().slice(-3000)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
