/**
 * Test helper: the real runtime (`flowcrew start`) in a child process, so tests can kill -9 it and start it again on
 * the same data directory. Requests authenticate with a bootstrap admin token (FLOWCREW_ADMIN_TOKEN).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';

import { freePort } from '@flowcrew/sdk/testing';

export { freePort };

const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ChildRuntimeOptions {
  dataDir: string;
  port: number;
  /** '' = SQLite in the data dir. */
  databaseUrl?: string;
  env?: Record<string, string>;
}

export class ChildRuntime {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  readonly token = randomBytes(24).toString('hex');

  constructor(private readonly options: ChildRuntimeOptions) {}

  get url(): string {
    return `http://127.0.0.1:${this.options.port}`;
  }

  /** Spawn the process; does not wait for it to listen (see `start`). */
  spawn(): void {
    const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', 'start', '--port', String(this.options.port), '--data-dir', this.options.dataDir], {
      cwd: repoRoot,
      env: {
        ...process.env,
        FLOWCREW_FLOWS_DIR: '',
        FLOWCREW_LOG_LEVEL: 'warn',
        DATABASE_URL: this.options.databaseUrl ?? '',
        FLOWCREW_ADMIN_TOKEN: this.token,
        ...this.options.env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Spawn and wait until /health answers. */
  async start(): Promise<void> {
    this.spawn();
    const child = this.child!;
    // Generous: on a loaded CI machine (load 20 on 2 cores) compiling and starting the CLI took over 30 s.
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`runtime exited (${child.exitCode ?? child.signalCode}) before it answered`);
      try {
        if ((await fetch(`${this.url}/api/v1/health`)).status < 500) return;
      } catch {
        /* not up yet */
      }
      if (Date.now() > deadline) throw new Error('runtime did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Resolves when the process has exited (by itself or killed); the exit code, null for a signal. */
  waitForExit(timeoutMs = 30_000): Promise<number | null> {
    return Promise.race([this.exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`runtime still running after ${timeoutMs} ms`)), timeoutMs).unref())]);
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM: the runtime shuts down cleanly; resolves with its exit code. */
  terminate(): Promise<number | null> {
    if (!this.running) return Promise.resolve(this.child?.exitCode ?? null);
    this.child!.kill('SIGTERM');
    return this.waitForExit();
  }

  killHard(): Promise<void> {
    if (!this.running) return Promise.resolve();
    this.child!.kill('SIGKILL');
    return this.exited.then(() => undefined);
  }

  async api(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }> {
    const res = await fetch(this.url + url, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  }
}
