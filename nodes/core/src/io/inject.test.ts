import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestNode, type TestNode } from '@flowcrew/sdk/testing';
import { injectNode, type InjectProps } from './inject.ts';

const started: TestNode[] = [];
async function inject(props: Partial<InjectProps>) {
  const node = await createTestNode(injectNode, props);
  started.push(node);
  return node;
}
afterEach(async () => {
  for (const node of started.splice(0)) await node.stop();
});

describe('inject node', () => {
  it('builds the configured properties for a manual run', async () => {
    const node = await inject({
      props: [
        { p: 'payload', v: '{"a":[1,2]}', vt: 'json' },
        { p: 'topic', v: 'greeting', vt: 'str' },
        { p: 'count', v: '42', vt: 'num' },
        { p: 'flag', v: 'TRUE', vt: 'bool' },
        { p: 'deep.value', v: 'x', vt: 'str' },
      ],
    });
    const [out] = await node.input({});
    expect(out!.msg).toEqual({ payload: { a: [1, 2] }, topic: 'greeting', count: 42, flag: true, deep: { value: 'x' } });
  });

  it('keeps the payload of an input message ("run now" with a message)', async () => {
    const node = await inject({ props: [{ p: 'payload', v: 'configured', vt: 'str' }] });
    expect(await node.input({ payload: 'mine', topic: 't' })).toEqual([{ port: 0, msg: { payload: 'mine', topic: 't' } }]);
  });

  it('uses the properties the editor sends with __user_inject_props__', async () => {
    const node = await inject({ props: [{ p: 'payload', v: 'configured', vt: 'str' }] });
    const [out] = await node.input({ __user_inject_props__: [{ p: 'payload', v: '7', vt: 'num' }] });
    expect(out!.msg).toEqual({ payload: 7 });
  });

  it('gives a millisecond timestamp for date, and an ISO string for date "iso"', async () => {
    const before = Date.now();
    const node = await inject({ props: [{ p: 'payload', v: '', vt: 'date' }, { p: 'iso', v: 'iso', vt: 'date' }] });
    const [out] = await node.input({});
    expect(out!.msg.payload).toBeGreaterThanOrEqual(before);
    expect(new Date(out!.msg.iso as string).getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it('reads flow and global context, and evaluates JSONata with $flowContext', async () => {
    const node = await inject({
      props: [
        { p: 'payload', v: 'user.name', vt: 'flow' },
        { p: 'limit', v: 'limit', vt: 'global' },
        { p: 'sum', v: '$flowContext("n") + 1', vt: 'jsonata' },
      ],
    });
    node.context.flow.set('user', { name: 'ada' });
    node.context.flow.set('n', 41);
    node.context.global.set('limit', 10);
    const [out] = await node.input({});
    expect(out!.msg).toEqual({ payload: 'ada', limit: 10, sum: 42 });
  });

  it('reads Node-RED configs from before `props` existed, and props entries that borrow the legacy fields', async () => {
    const legacy = await inject({ payload: 'hello', payloadType: 'str', topic: 'old' });
    expect((await legacy.input({}))[0]!.msg).toEqual({ payload: 'hello', topic: 'old' });
    const editorDefault = await inject({ props: [{ p: 'payload' }, { p: 'topic', vt: 'str' }], payload: '5', payloadType: 'num', topic: 'T' });
    expect((await editorDefault.input({}))[0]!.msg).toEqual({ payload: 5, topic: 'T' });
  });

  it('rejects bad configuration at deploy', async () => {
    await expect(createTestNode(injectNode, { props: [{ p: 'payload', v: '{nope', vt: 'json' }] })).rejects.toThrow(/property "payload"/);
    await expect(createTestNode(injectNode, { props: [{ p: 'payload', v: 'x', vt: 'nope' }] })).rejects.toThrow(/unsupported value type "nope"/);
    await expect(createTestNode(injectNode, { props: [{ p: 'a b', v: 'x', vt: 'str' }] })).rejects.toThrow(/property "a b"/);
    await expect(createTestNode(injectNode, { crontab: '99 * * * *' })).rejects.toThrow(/invalid crontab "99 \* \* \* \*"/);
    await expect(createTestNode(injectNode, { repeat: 3_000_000 })).rejects.toThrow(/too long/);
  });

  it('gives "" for env: flows never read host environment variables', async () => {
    const node = await inject({ props: [{ p: 'payload', v: 'HOME', vt: 'env' }, { p: 'path', v: '${PATH}', vt: 'env' }] });
    const [out] = await node.input({});
    expect(out!.msg).toEqual({ payload: '', path: '' });
  });

  it('sets properties with Node-RED paths: [msg.x] references and array indexes', async () => {
    const node = await inject({
      props: [
        { p: 'key', v: 'name', vt: 'str' },
        { p: 'user[msg.key]', v: 'ada', vt: 'str' },
        { p: 'list[1]', v: '2', vt: 'num' },
        { p: 'copy', v: 'msg.user.name', vt: 'jsonata' },
      ],
    });
    const [out] = await node.input({});
    expect(out!.msg).toEqual({ key: 'name', user: { name: 'ada' }, list: [undefined, 2], copy: 'ada' });
  });

  it('keeps a JSON value given as a value rather than as text, and skips an empty JSONata property', async () => {
    const node = await inject({ props: [{ p: 'payload', v: { a: 1 }, vt: 'json' }, { p: 'n', v: 5, vt: 'num' }, { p: 'none', v: '', vt: 'jsonata' }] });
    const [out] = await node.input({});
    expect(out!.msg).toEqual({ payload: { a: 1 }, n: 5 });
    expect('none' in out!.msg).toBe(false);
  });

  it('fails a run whose JSONata fails, naming the property', async () => {
    const node = await inject({ props: [{ p: 'payload', v: '$number("x")', vt: 'jsonata' }] });
    await expect(node.input({})).rejects.toThrow(/payload:/);
  });

  it('emits on every repeat interval until stopped', async () => {
    const node = await inject({ props: [{ p: 'payload', v: 'tick', vt: 'str' }], repeat: '0.02' });
    await node.start();
    await vi.waitFor(() => expect(node.emitted.length).toBeGreaterThanOrEqual(3));
    expect(node.emitted[0]!.msg).toEqual({ payload: 'tick' });
    await node.stop();
    const count = node.emitted.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(node.emitted.length).toBe(count);
  });

  it('emits once after deploy with `once`', async () => {
    const node = await inject({ props: [{ p: 'payload', v: 'boot', vt: 'str' }], once: true, onceDelay: 0.01 });
    await node.start();
    await vi.waitFor(() => expect(node.emitted).toHaveLength(1));
    expect(node.emitted[0]!.msg.payload).toBe('boot');
  });

  it('emits on a cron schedule (a six-field crontab with seconds)', async () => {
    const node = await inject({ props: [{ p: 'payload', v: 'cron', vt: 'str' }], crontab: '* * * * * *' });
    await node.start();
    await vi.waitFor(() => expect(node.emitted.length).toBeGreaterThanOrEqual(1), { timeout: 3000 });
    expect(node.emitted[0]!.msg.payload).toBe('cron');
  });
});
