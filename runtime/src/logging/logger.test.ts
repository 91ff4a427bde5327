import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { captureLog } from '../testing/log-capture.ts';
import { startTestServer, type TestServer } from '../testing/server.ts';
import { createLogger, parseLogLevels } from './logger.ts';

describe('runtime logger (pino)', () => {
  it('writes one JSON object per line: time, level name, message, data apart from the line fields', () => {
    const { log, entries } = captureLog('debug');
    log.info('hello', { runId: 'forged', n: 1 });
    log.module('executor').child({ runId: 'r1', flowId: 'f1' }).warn('careful', new Error('boom'));
    const [first, second] = entries();
    expect(first).toMatchObject({ level: 'info', msg: 'hello', data: { runId: 'forged', n: 1 } });
    expect(first!.runId).toBeUndefined(); // data cannot forge the line's own fields
    expect(typeof first!.time).toBe('string');
    expect(second).toMatchObject({ level: 'warn', msg: 'careful', module: 'executor', runId: 'r1', flowId: 'f1', err: { message: 'boom' } });
  });

  it('gives each module its own level (FLOWCREW_LOG_LEVELS)', () => {
    const { log, entries } = captureLog('info', parseLogLevels('executor=debug, api=error'));
    log.module('executor').debug('executor detail');
    log.module('api').warn('api warning');
    log.module('api').error('api error');
    log.module('storage').debug('storage detail');
    log.module('storage').info('storage info');
    expect(entries().map((e) => e.msg)).toEqual(['executor detail', 'api error', 'storage info']);
  });

  it('refuses unknown modules and levels with the entry named', () => {
    expect(() => parseLogLevels('exeutor=debug')).toThrow(/unknown module "exeutor" \(known: runtime, executor, nodes/);
    expect(() => parseLogLevels('executor=loud')).toThrow(/FLOWCREW_LOG_LEVELS \(executor\) must be one of debug, info, warn, error, silent/);
    expect(() => parseLogLevels('executor')).toThrow(/"executor" is not module=level/);
    expect(() => loadConfig({ FLOWCREW_LOG_LEVEL: 'verbose' })).toThrow(/FLOWCREW_LOG_LEVEL must be one of/);
    expect(() => loadConfig({ FLOWCREW_LOG_FORMAT: 'xml' })).toThrow(/FLOWCREW_LOG_FORMAT must be json, pretty or auto/);
    expect(loadConfig({ FLOWCREW_LOG_LEVELS: 'nodes=warn', FLOWCREW_LOG_FORMAT: 'pretty' })).toMatchObject({ logLevels: { nodes: 'warn' }, logFormat: 'pretty' });
  });

  it('writes plain text lines through pino-pretty with FLOWCREW_LOG_FORMAT=pretty', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', format: 'pretty', destination: { write: (l: string) => void lines.push(l) } });
    log.module('executor').child({ runId: 'r-42' }).warn('slow node');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN: slow node\n\s+module: "executor"\n\s+runId: "r-42"/);
    expect(() => JSON.parse(lines[0]!)).toThrow();
  });
});

describe('log lines of a real run', () => {
  let server: TestServer;
  const logged = captureLog('info');
  beforeAll(async () => {
    server = await startTestServer({}, { log: logged.log, loadExamples: true });
  });
  afterAll(async () => server?.stop());

  it('carry runId, flowId and nodeId on what a node logs, in the nodes module', async () => {
    const flow = {
      id: 'logs',
      name: 'logs',
      version: 0,
      nodes: [
        { id: 'go', type: 'inject', wires: [['say']] },
        { id: 'say', type: 'debug', props: { console: true, tosidebar: false }, wires: [] },
      ],
    };
    expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/logs/deploy')).status).toBe(200);
    const { body } = await server.api('POST', '/api/v1/flows/logs/runs', { input: { payload: 'hello from the run' } });
    expect((await server.waitRun(body.runId)).status).toBe('succeeded');
    const line = logged.entries().find((e) => e.msg.includes('hello from the run'));
    expect(line).toMatchObject({ level: 'info', module: 'nodes', runId: body.runId, flowId: 'logs', nodeId: 'say' });
    expect(line!.msg).toMatch(/^\[logs\/.*\] hello from the run$/);
  });

  it('carry flowId on the runtime\'s lines about a flow', () => {
    const loaded = logged.entries().find((e) => e.msg.startsWith('loaded example flow "orders"'));
    expect(loaded).toMatchObject({ level: 'info', module: 'runtime', flowId: 'orders' });
  });

  it('carry runId, flowId and nodeId on the executor\'s own lines about a run', async () => {
    const flow = {
      id: 'retrying',
      name: 'retrying',
      version: 0,
      nodes: [
        { id: 'go', type: 'inject', wires: [['parse']] },
        { id: 'parse', type: 'json', retry: { maxAttempts: 2, backoffMs: 1 }, props: { action: 'obj' }, wires: [] },
      ],
    };
    expect((await server.api('POST', '/api/v1/flows', flow)).status).toBe(201);
    expect((await server.api('POST', '/api/v1/flows/retrying/deploy')).status).toBe(200);
    const { body } = await server.api('POST', '/api/v1/flows/retrying/runs', { input: { payload: '{not json' } });
    expect((await server.waitRun(body.runId)).status).toBe('failed');
    const line = logged.entries().find((e) => e.msg.startsWith('node "parse" attempt 1 failed, retrying'));
    expect(line).toMatchObject({ level: 'warn', module: 'executor', runId: body.runId, flowId: 'retrying', nodeId: 'parse' });
  });
});
