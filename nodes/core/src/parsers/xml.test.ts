import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { xmlNode } from './xml.ts';

const convert = async (props: Record<string, unknown>, msg: Record<string, unknown>) => (await (await createTestNode(xmlNode, props)).input(msg)).map((s) => s.msg);

describe('xml node', () => {
  it('parses XML into the object xml2js gives (Node-RED\'s library), with its attribute and text keys', async () => {
    const [out] = await convert({}, { payload: '<order id="7"><item qty="2">mug</item><note>hi</note></order>' });
    expect(out!.payload).toEqual({ order: { $: { id: '7' }, item: [{ _: 'mug', $: { qty: '2' } }], note: ['hi'] } });
    const [custom] = await convert({ attr: '@', chr: '#' }, { payload: '<a b="1">t</a>' });
    expect(custom!.payload).toEqual({ a: { '#': 't', '@': { b: '1' } } });
    const [flat] = await convert({}, { payload: '<a><b>1</b></a>', options: { explicitArray: false } });
    expect(flat!.payload).toEqual({ a: { b: '1' } });
  });

  it('writes an object as XML, with its declaration and without indentation (as Node-RED does)', async () => {
    const [out] = await convert({}, { payload: { order: { $: { id: '7' }, item: ['mug', 'cup'] } } });
    expect(out!.payload).toBe('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><order id="7"><item>mug</item><item>cup</item></order>');
  });

  it('passes a message without the property, drops other values, fails on bad XML', async () => {
    expect(await convert({ property: 'data' }, { payload: 1 })).toEqual([{ payload: 1 }]);
    expect(await convert({}, { payload: 42 })).toEqual([]);
    await expect(convert({}, { payload: '<a><b></a>' })).rejects.toThrow();
  });

  it('expands no entity a document defines and reads no external entity (XXE, billion laughs)', async () => {
    const xxe = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>';
    await expect(convert({}, { payload: xxe })).rejects.toThrow();
    const laughs = '<!DOCTYPE a [<!ENTITY l "lol"><!ENTITY l2 "&l;&l;&l;&l;">]><a>&l2;</a>';
    await expect(convert({}, { payload: laughs })).rejects.toThrow();
  });
});
