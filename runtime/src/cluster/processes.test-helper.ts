/**
 * Test helper: Flowcrew processes (`flowcrew start --mode main`, `flowcrew worker`) as real child processes on a
 * shared PostgreSQL schema and Redis, so tests can kill -9 them, stop (SIGSTOP) and resume them. Their JSON log
 * lines are kept for waitFor().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface FlowcrewProcess {
  name: string;
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first log line (from now or earlier, after `from`) matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<string>;
  /** The exit as a promise (code or signal). */
  exited: Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

export function startFlowcrew(name: string, args: string[], env: Record<string, string>): FlowcrewProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', ...args], {
    cwd: repoRoot,
    env: { ...process.env, FLOWCREW_LOG_FORMAT: 'json', FLOWCREW_FLOWS_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const watchers = new Set<() => void>();
  let partial = '';
  const take = (chunk: Buffer) => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter((l) => l.trim() !== ''));
    for (const watcher of watchers) watcher();
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? `exit ${code}`)));
  return {
    name,
    child,
    lines,
    exited,
    kill: (signal = 'SIGKILL') => void child.kill(signal),
    waitFor(pattern, timeoutMs = 60_000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.slice(from).find((l) => pattern.test(l));
          if (!found) return false;
          clearTimeout(timer);
          watchers.delete(check);
          resolve(found);
          return true;
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`${name}: no log line matching ${pattern} within ${timeoutMs} ms; last lines:\n${lines.slice(-15).join('\n')}`));
        }, timeoutMs);
        if (!check()) watchers.add(check);
        void exited.then((how) => {
          if (!watchers.has(check)) return;
          watchers.delete(check);
          clearTimeout(timer);
          reject(new Error(`${name} exited (${how}) before logging ${pattern}; last lines:\n${lines.slice(-15).join('\n')}`));
        });
      });
    },
  };
}
