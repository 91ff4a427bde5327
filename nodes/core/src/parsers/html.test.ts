import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { htmlNode } from './html.ts';

const page = '<html><body><ul id="menu"><li class="a"><a href="/x">X <b>1</b></a></li><li class="b">Y</li></ul></body></html>';
const run = async (props: Record<string, unknown>, msg: Record<string, unknown>) => (await (await createTestNode(htmlNode, props)).input(msg)).map((s) => s.msg);

describe('html node', () => {
  it('returns the inner HTML, text, attributes or both of the matching elements, in one message', async () => {
    expect((await run({ tag: 'li' }, { payload: page }))[0]!.payload).toEqual(['<a href="/x">X <b>1</b></a>', 'Y']);
    expect((await run({ tag: 'li', ret: 'text' }, { payload: page }))[0]!.payload).toEqual(['X 1', 'Y']);
    expect((await run({ tag: 'li', ret: 'attr' }, { payload: page }))[0]!.payload).toEqual([{ class: 'a' }, { class: 'b' }]);
    expect((await run({ tag: 'li.b', ret: 'compl' }, { payload: page }))[0]!.payload).toEqual([{ _: 'Y', class: 'b' }]);
    expect((await run({ tag: 'table' }, { payload: page }))[0]!.payload).toEqual([]);
  });

  it('sends one message per element as a sequence, takes msg.select without a tag, and writes another property', async () => {
    const out = await run({ as: 'multi', ret: 'text' }, { payload: page, select: '#menu li', _msgid: 'm1' });
    expect(out.map((m) => [m.payload, m.parts])).toEqual([
      ['X 1', { id: 'm1', index: 0, count: 2, type: 'string', ch: '' }],
      ['Y', { id: 'm1', index: 1, count: 2, type: 'string', ch: '' }],
    ]);
    expect((await run({ tag: 'a', ret: 'attr', outproperty: 'links' }, { payload: page }))[0]).toMatchObject({ payload: page, links: [{ href: '/x' }] });
    expect(await run({ property: 'missing', tag: 'a' }, { payload: page })).toEqual([{ payload: page }]);
  });
});
