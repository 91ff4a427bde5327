import { afterEach, describe, expect, it } from 'vitest';
import { createTestNode, type TestNode } from '@flowcrew/sdk/testing';
import { functionNode, type FunctionProps } from './function.ts';

const open: TestNode[] = [];
async function fn(props: Partial<FunctionProps>) {
  const node = await createTestNode(functionNode, { outputs: 1, ...props });
  open.push(node);
  return node;
}
afterEach(async () => {
  for (const node of open.splice(0)) await node.stop();
});

describe('function node', () => {
  it('returns the message it was given, changed by the code', async () => {
    const node = await fn({ func: 'msg.payload = msg.payload.toUpperCase();\nreturn msg;' });
    const sent = await node.input({ payload: 'hello', topic: 't', _msgid: 'm1' });
    expect(sent).toEqual([{ port: 0, msg: { payload: 'HELLO', topic: 't', _msgid: 'm1' } }]);
  });

  it('sends nothing for return null or no return', async () => {
    expect(await (await fn({ func: 'return null;' })).input({ payload: 1 })).toEqual([]);
    expect(await (await fn({ func: 'msg.payload = 2;' })).input({ payload: 1 })).toEqual([]);
  });

  it('routes an array result to outputs, with arrays of messages on one output', async () => {
    const node = await fn({
      outputs: 3,
      func: 'return [{payload: "a"}, [{payload: "b1"}, {payload: "b2"}], null];',
    });
    const sent = await node.input({ payload: 0, _msgid: 'x' });
    expect(sent).toEqual([
      { port: 0, msg: { payload: 'a', _msgid: 'x' } },
      { port: 1, msg: { payload: 'b1', _msgid: 'x' } },
      { port: 1, msg: { payload: 'b2', _msgid: 'x' } },
    ]);
  });

  it('ignores entries for outputs the node does not have, and reports non-message values', async () => {
    const node = await fn({ outputs: 1, func: 'return [[42, {payload: "ok"}], {payload: "extra"}];' });
    const sent = await node.input({});
    expect(sent).toEqual([{ port: 0, msg: { payload: 'ok' } }]);
    expect(node.logs.some((l) => l.level === 'error' && /type number/.test(l.message))).toBe(true);
  });

  it('sends with node.send, before the returned messages', async () => {
    const node = await fn({
      outputs: 2,
      func: 'node.send({payload: 1});\nnode.send([null, {payload: 2}]);\nreturn {payload: 3};',
    });
    const sent = await node.input({});
    expect(sent.map((s) => [s.port, s.msg.payload])).toEqual([
      [0, 1],
      [1, 2],
      [0, 3],
    ]);
  });

  it('supports await and timers: the message finishes when the timers have run', async () => {
    const node = await fn({
      func: `
        await new Promise((resolve) => setTimeout(resolve, 20));
        setTimeout(() => node.send({payload: 'later'}), 10);
        msg.payload = 'now';
        return msg;`,
    });
    const sent = await node.input({ payload: 'x' });
    expect(sent.map((s) => s.msg.payload).sort()).toEqual(['later', 'now']);
  });

  it('finishes at node.done() and cancels what is still pending', async () => {
    const node = await fn({
      func: `
        let n = 0;
        const id = setInterval(() => {
          n++;
          node.send({payload: n});
          if (n === 3) node.done();
        }, 5);
        return null;`,
    });
    const sent = await node.input({});
    expect(sent.map((s) => s.msg.payload)).toEqual([1, 2, 3]);
  });

  it('reads and writes flow, global and node context', async () => {
    const node = await fn({
      func: `
        const count = (flow.get('count') || 0) + 1;
        flow.set('count', count);
        global.set('seen', [msg.payload]);
        context.set('last', msg.payload);
        flow.set('user.name', 'ada');
        msg.payload = { count, keys: flow.keys().sort(), viaContext: context.flow.get('count') };
        return msg;`,
    });
    node.context.flow.set('count', 41);
    const [out] = await node.input({ payload: 'p' });
    expect(out!.msg.payload).toEqual({ count: 42, keys: ['count', 'user'], viaContext: 42 });
    expect(node.context.flow.get('count')).toBe(42);
    expect(node.context.flow.get('user')).toEqual({ name: 'ada' });
    expect(node.context.global.get('seen')).toEqual(['p']);
    expect(node.context.node.get('last')).toBe('p');
  });

  it('offers Node-RED helpers: RED.util.cloneMessage, env.get, node.status, node.warn', async () => {
    const node = await fn({
      func: `
        const copy = RED.util.cloneMessage(msg);
        copy.payload.n = 2;
        node.status({fill: 'green', shape: 'dot', text: 'ok'});
        node.warn('careful');
        return { payload: { original: msg.payload.n, copy: copy.payload.n, id: env.get('NR_NODE_ID'), home: env.get('HOME') } };`,
    });
    const [out] = await node.input({ payload: { n: 1 } });
    expect(out!.msg.payload).toEqual({ original: 1, copy: 2, id: 'n1' });
    expect(node.statuses).toContainEqual({ fill: 'green', shape: 'dot', text: 'ok' });
    expect(node.logs).toContainEqual({ level: 'warn', message: 'careful', data: undefined });
  });

  it("env.get() reads the flow's variables, as $env() does; unset and host variables read undefined (also in initialize)", async () => {
    const node = await createTestNode(
      functionNode,
      {
        outputs: 1,
        initialize: "context.set('atStart', env.get('GREETING'));",
        func: "const name = 'TAR' + 'GET'; return { payload: [env.get('GREETING'), env.get(name), env.get('UNSET'), env.get('HOME'), context.get('atStart'), env.get('NR_NODE_ID')] };",
      },
      { env: { GREETING: 'hello', TARGET: 'world' } },
    );
    open.push(node);
    const [out] = await node.input({});
    expect(out!.msg.payload).toEqual(['hello', 'world', undefined, undefined, 'hello', 'n1']);
  });

  it('has no require, process, Buffer or host globals', async () => {
    const node = await fn({
      func: 'return { payload: [typeof require, typeof process, typeof Buffer, typeof module, typeof globalThis.fetch] };',
    });
    const [out] = await node.input({});
    expect(out!.msg.payload).toEqual(['undefined', 'undefined', 'undefined', 'undefined', 'undefined']);
    const escape = await fn({ func: "return { payload: process.env };" });
    await expect(escape.input({})).rejects.toThrow(/process is not defined/);
  });

  it('reports an undefined name with its line, other errors by their text (as Node-RED)', async () => {
    const node = await fn({ func: 'const a = 1;\nnull.boom;\nreturn msg;' });
    await expect(node.input({})).rejects.toThrow(/^TypeError: Cannot read properties of null \(reading 'boom'\)$/);
    const undefinedName = await fn({ func: 'const a = 1;\nnobody.boom;\nreturn msg;' });
    await expect(undefinedName.input({})).rejects.toThrow(/^ReferenceError: nobody is not defined \(line 2, col \d+\)$/);
  });

  it('fails the message with node.error(text, msg)', async () => {
    const node = await fn({ func: 'if (!msg.payload) { node.error("payload missing", msg); return null; }\nreturn msg;' });
    await expect(node.input({})).rejects.toThrow('payload missing');
    expect(await node.input({ payload: 1 })).toHaveLength(1);
  });

  it('reports a syntax error at deploy, naming the line', async () => {
    await expect(createTestNode(functionNode, { func: 'const a = 1;\nlet = = 2;\nreturn msg;' })).rejects.toThrow(/func: SyntaxError on line 2/);
  });

  it('stops an infinite loop at the time limit, and keeps working afterwards', async () => {
    const node = await fn({ timeout: 0.3, func: 'if (msg.payload === "loop") { while (true) {} }\nreturn msg;' });
    await expect(node.input({ payload: 'loop' })).rejects.toThrow('function timed out after 300 ms');
    expect(await node.input({ payload: 'fine' })).toEqual([{ port: 0, msg: { payload: 'fine' } }]);
  });

  it('stops async code that never finishes at the time limit', async () => {
    const node = await fn({ timeout: 0.2, func: 'await new Promise(() => {});\nreturn msg;' });
    await expect(node.input({})).rejects.toThrow('function timed out after 200 ms');
  });

  it('fails a memory bomb with a clear error, then works again with a fresh sandbox', async () => {
    const node = await fn({
      memoryLimitMb: 16,
      timeout: 20,
      func: `
        if (msg.payload === 'bomb') {
          const hoard = [];
          while (true) hoard.push(new Array(100000).fill(Math.random()));
        }
        return msg;`,
    });
    await expect(node.input({ payload: 'bomb' })).rejects.toThrow('function exceeded its 16 MB memory limit');
    expect(await node.input({ payload: 'after' })).toEqual([{ port: 0, msg: { payload: 'after' } }]);
  });

  it('survives an out-of-memory failure V8 cannot recover from (a growing Set), and keeps working', async () => {
    const node = await fn({
      memoryLimitMb: 16,
      timeout: 20,
      func: `
        if (msg.payload === 'bomb') {
          const seen = new Set();
          let i = 0;
          while (true) seen.add('key' + i++);
        }
        return msg;`,
    });
    await expect(node.input({ payload: 'bomb' })).rejects.toThrow('function exceeded its 16 MB memory limit');
    expect(await node.input({ payload: 'after' })).toEqual([{ port: 0, msg: { payload: 'after' } }]);
  });

  it('cancels with the run: an aborted signal fails the call', async () => {
    const node = await fn({ func: 'await new Promise((r) => setTimeout(r, 10000));\nreturn msg;' });
    const controller = new AbortController();
    const pending = node.input({}, { signal: controller.signal });
    controller.abort(new Error('run cancelled'));
    await expect(pending).rejects.toThrow('run cancelled');
  });

  it('runs initialize at deploy and finalize at stop', async () => {
    const node = await createTestNode(functionNode, {
      outputs: 1,
      initialize: "flow.set('ready', true);\nnode.log('initialised');",
      func: "msg.payload = flow.get('ready');\nreturn msg;",
      finalize: "flow.set('ready', false);",
    });
    expect(node.logs).toContainEqual({ level: 'info', message: 'initialised', data: undefined });
    expect((await node.input({}))[0]!.msg.payload).toBe(true);
    await node.stop();
    expect(node.context.flow.get('ready')).toBe(false);
  });

  it('rejects external modules, which the sandbox cannot load', async () => {
    await expect(createTestNode(functionNode, { func: 'return msg;', libs: [{ var: 'x', module: 'lodash' }] })).rejects.toThrow(/external modules/);
  });
});
