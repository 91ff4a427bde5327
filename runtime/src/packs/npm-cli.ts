/**
 * Running the npm CLI (the one that runs this process's Node, else `npm` on PATH) as a child process: its output
 * lines are handed on as they come (the palette manager streams them live), and a failure carries its last lines.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export interface NpmRunOptions {
  cwd: string;
  /** Each line npm writes (stdout and stderr), as it is written. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  env?: Record<string, string | undefined>;
  signal?: AbortSignal;
}

export interface NpmResult {
  stdout: string;
  stderr: string;
}

/** npm failed: `message` names the command and gives npm's own last error lines. */
export class NpmError extends Error {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly output: string,
  ) {
    super(message);
    this.name = 'NpmError';
  }
}

/** npm-cli.js beside this Node (nvm, the official tarballs and Debian's nodejs all put it there), else `npm`. */
function npmCommand(): { command: string; prefixArgs: string[] } {
  const beside = path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  return existsSync(beside) ? { command: process.execPath, prefixArgs: [beside] } : { command: 'npm', prefixArgs: [] };
}

export function runNpm(args: string[], options: NpmRunOptions): Promise<NpmResult> {
  const { command, prefixArgs } = npmCommand();
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefixArgs, ...args], {
      cwd: options.cwd,
      env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
    });
    const out = { stdout: '', stderr: '' };
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        out[stream] += chunk;
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) options.onLine?.(line, stream);
      });
      child[stream].on('end', () => {
        if (partial.trim()) options.onLine?.(partial, stream);
      });
    }
    child.on('error', (error) => reject(new NpmError(`npm ${args[0]} could not be started: ${error.message}`, null, '')));
    child.on('close', (code) => {
      if (code === 0) return resolve(out);
      const tail = (out.stderr || out.stdout).trim().split('\n').filter((l) => /err|error|fail/i.test(l)).slice(-8).join('\n');
      reject(new NpmError(`npm ${args.join(' ')} failed (exit ${code})${tail ? `:\n${tail}` : ''}`, code, out.stdout + out.stderr));
    });
  });
}
