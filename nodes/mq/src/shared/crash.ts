/** Start crash-consumer.ts in a child process and wait for what it prints (see there). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface CrashConsumer {
  child: ChildProcess;
  /** Resolves with the first line starting with `prefix`. */
  line(prefix: string, timeoutMs?: number): Promise<string>;
  /** SIGKILL, and wait for the exit. */
  kill(): Promise<void>;
}

export function startCrashConsumer(type: string, props: Record<string, unknown>, fields: Record<string, unknown>): CrashConsumer {
  const script = fileURLToPath(new URL('./crash-consumer.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, type, JSON.stringify(props), JSON.stringify(fields)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return {
    child,
    line(prefix, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`consumer printed no "${prefix}" line in ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`)), timeoutMs);
        const look = () => {
          const found = out.split('\n').find((l) => l.startsWith(prefix));
          if (found !== undefined) {
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null) {
            clearTimeout(timer);
            reject(new Error(`consumer exited (${child.exitCode}); stderr: ${err}`));
          } else waiters.push(look);
        };
        look();
      });
    },
    kill() {
      return new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      });
    },
  };
}
