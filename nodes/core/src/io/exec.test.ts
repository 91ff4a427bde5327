import { createTestNode } from '@flowcrew/sdk/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { checkCommand, execNode, splitArguments } from './exec.ts';

const saved = process.env.FLOWCREW_EXEC_COMMANDS;
afterEach(() => {
  if (saved === undefined) delete process.env.FLOWCREW_EXEC_COMMANDS;
  else process.env.FLOWCREW_EXEC_COMMANDS = saved;
});

describe('exec', () => {
  it('is off until an administrator allows commands', async () => {
    delete process.env.FLOWCREW_EXEC_COMMANDS;
    await expect(createTestNode(execNode, { command: 'echo hi' })).rejects.toThrow(/off on this runtime .*FLOWCREW_EXEC_COMMANDS/);
  });

  it('refuses commands not allowed and shell syntax, naming them', () => {
    expect(() => checkCommand('rm -rf /tmp/x', ['echo'])).toThrow(/"rm" is not an allowed command \(allowed: echo\)/);
    expect(() => checkCommand('echo hi | sh', ['echo'])).toThrow(/shell syntax/);
    expect(() => checkCommand('echo $(id)', ['echo'])).toThrow(/shell syntax/);
    expect(() => checkCommand('/bin/echo x', ['echo'])).toThrow(/not an allowed command/);
    expect(() => checkCommand('/bin/echo x', ['/bin/echo'])).not.toThrow();
  });

  it('runs an allowed command with the payload as arguments, never through a shell', async () => {
    process.env.FLOWCREW_EXEC_COMMANDS = 'echo';
    const node = await createTestNode(execNode, { command: 'echo -n start', append: 'end' });
    const sent = await node.input({ payload: '"two words" ; $(id) `id` > /tmp/flowcrew-exec-pwned' });
    expect(sent.find((s) => s.port === 0)?.msg.payload).toBe('start two words ; $(id) `id` > /tmp/flowcrew-exec-pwned end');
    expect(sent.find((s) => s.port === 2)?.msg.payload).toEqual({ code: 0 });
    expect(sent.some((s) => s.port === 1)).toBe(false);
  });

  it('reports stderr and a failing return code on their outputs', async () => {
    process.env.FLOWCREW_EXEC_COMMANDS = 'ls';
    const node = await createTestNode(execNode, { command: 'ls /definitely/not/here', addpay: '' });
    const sent = await node.input({ payload: 'ignored' });
    expect(String(sent.find((s) => s.port === 1)?.msg.payload)).toMatch(/No such file/);
    expect(sent.find((s) => s.port === 2)?.msg.payload).toEqual({ code: 2 });
  });

  it('kills a command at its timeout', async () => {
    process.env.FLOWCREW_EXEC_COMMANDS = 'sleep';
    const node = await createTestNode(execNode, { command: 'sleep 30', addpay: '', timer: 0.2 });
    const sent = await node.input({});
    expect(sent.find((s) => s.port === 2)?.msg.payload).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('splits arguments like Node-RED\'s spawn mode', () => {
    expect(splitArguments('convert "my file.png" -resize 50%')).toEqual(['convert', 'my file.png', '-resize', '50%']);
  });
});
