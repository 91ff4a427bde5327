/**
 * A server that goes away with a function call in flight (function-sandbox-orphan.test.ts): opens a sandbox, starts
 * `argv[2]` as the function's code, prints the sandbox process id once the call runs, then exits at once (no close).
 */
import { MemoryContext } from '@flowcrew/sdk/testing';
import { FunctionSandbox, sandboxProcesses } from './function-sandbox.ts';

const sandbox = await FunctionSandbox.create({
  code: { func: process.argv[2]! },
  memoryLimitMb: 32,
  timeoutMs: 60_000,
  info: { id: 'n1', name: 'fn', flowId: 'orphan', outputs: 1 },
});
let started!: () => void;
const running = new Promise<void>((resolve) => (started = resolve));
const host = {
  send: () => {},
  // The code's first log line says it runs (and is inside its loop of calls into the server).
  log: () => started(),
  status: () => {},
  context: { node: new MemoryContext(), flow: new MemoryContext(), global: new MemoryContext() },
};
void sandbox.run('func', {}, host, { awaitTimers: true }).catch(() => {});
await running;
process.stdout.write(`${sandboxProcesses()[0]!.pid}\n`, () => process.exit(0));
