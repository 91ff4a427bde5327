import { describe, expect, it } from 'vitest';
import type { Logger } from '@flowcrew/sdk';
import { createNodeLogger } from './node-logger.ts';

function recorder() {
  const lines: Array<{ level: string; message: string; data?: unknown }> = [];
  const at = (level: string) => (message: string, data?: unknown) => void lines.push({ level, message, data });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { log, lines, chars: () => lines.reduce((n, l) => n + l.message.length + (typeof l.data === 'string' ? l.data.length : 0), 0) };
}

describe('node logger', () => {
  it('prefixes lines with the flow and node', () => {
    const { log, lines } = recorder();
    createNodeLogger(log, { flowId: 'f1', nodeId: 'n1', label: 'score' }).warn('careful', { a: 1 });
    expect(lines).toEqual([{ level: 'warn', message: '[f1/score] careful', data: { a: 1 } }]);
  });

  it('cuts a long message with a note saying how much was cut', () => {
    const { log, lines } = recorder();
    createNodeLogger(log, { flowId: 'f1', nodeId: 'n1', label: 'fn' }, { logMessageChars: 100, logPerSecond: 20 }).info('x'.repeat(1000));
    expect(lines[0]!.message).toBe(`[f1/fn] ${'x'.repeat(100)} … [900 more characters cut (FLOWCREW_LOG_MESSAGE_MAX_CHARS)]`);
  });

  it('cuts large data attached to a line', () => {
    const { log, lines } = recorder();
    createNodeLogger(log, { flowId: 'f1', nodeId: 'n1', label: 'fn' }, { logMessageChars: 50, logPerSecond: 20 }).info('m', { big: 'y'.repeat(500) });
    expect(lines[0]!.data).toMatch(/^\{"big":"y+ … \[\d+ more characters cut/);
  });

  it('writes a few hundred KB, not 50 MB, for fifty 1 MB warnings', () => {
    const { log, chars } = recorder();
    const logger = createNodeLogger(log, { flowId: 'f1', nodeId: 'n1', label: 'fn' });
    const mb = 'w'.repeat(1048576);
    for (let i = 0; i < 50; i++) logger.warn(mb);
    expect(chars()).toBeLessThan(500 * 1024);
  });

  it('rate-limits each node, reporting how many lines it dropped', async () => {
    const { log, lines } = recorder();
    const limits = { logMessageChars: 100, logPerSecond: 5 };
    const noisy = createNodeLogger(log, { flowId: 'f1', nodeId: 'noisy', label: 'noisy' }, limits);
    const quiet = createNodeLogger(log, { flowId: 'f1', nodeId: 'quiet', label: 'quiet' }, limits);
    for (let i = 0; i < 200; i++) noisy.info(`line ${i}`);
    // Another logger for the same node (made at trigger start, say) shares the allowance.
    createNodeLogger(log, { flowId: 'f1', nodeId: 'noisy', label: 'noisy' }, limits).info('again');
    quiet.info('still heard');
    expect(lines.filter((l) => l.message.startsWith('[f1/noisy]'))).toHaveLength(50);
    expect(lines.at(-1)!.message).toBe('[f1/quiet] still heard');
    await new Promise((r) => setTimeout(r, 1100));
    expect(lines.at(-1)).toEqual({ level: 'warn', message: '[f1/noisy] 151 log message(s) dropped: more than 5 per second (FLOWCREW_LOG_PER_SECOND)', data: undefined });
  });
});
