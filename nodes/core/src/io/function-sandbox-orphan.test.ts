import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./function-sandbox-orphan.fixture.ts', import.meta.url));

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Run the fixture (a server that exits mid-call); resolves with its sandbox process id once the server is gone. */
function serverExitingMidCall(code: string): Promise<number> {
  return new Promise((resolve, reject) => {
    // stdout is a pipe of its own, not inherited by the sandbox process (which shares the fixture's stderr only).
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, code], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (exitCode) => {
      const pid = Number(out.trim());
      if (exitCode === 0 && Number.isInteger(pid) && pid > 0) resolve(pid);
      else reject(new Error(`fixture exited with ${exitCode}, printed "${out}"`));
    });
  });
}

async function gone(pid: number, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

// A sandbox process used to hang for ever in process.exit() (isolated-vm's exit handler waiting on an isolate that
// waited on the exiting thread) when its server went away during a call into the server: orphans after CI runs.
describe('function sandbox process: its server exits while a function is calling into it', () => {
  for (const [what, code] of [
    ['node.warn in a loop', `node.log('running'); for (;;) node.warn('busy');`],
    ['flow context reads in a loop', `node.log('running'); for (;;) await flow.get('k');`],
  ]) {
    it(`ends (${what})`, async () => {
      const pid = await serverExitingMidCall(code!);
      const ended = await gone(pid);
      if (!ended) process.kill(pid, 'SIGKILL'); // never leave it behind, even when the test fails
      expect(ended).toBe(true);
    });
  }
});
