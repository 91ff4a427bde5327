import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { csvNode, splitOutsideQuotes, type CsvProps } from './csv.ts';

async function parse(props: Partial<CsvProps>, payload: string) {
  const node = await createTestNode(csvNode, props);
  return (await node.input({ payload })).map((s) => s.msg);
}

describe('csv node: CSV to objects', () => {
  it('parses a line into an object keyed by the template, numbers parsed', async () => {
    const [msg] = await parse({ temp: 'a,b,c,d' }, '1,2,3,4\n');
    expect(msg!.payload).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    expect(msg!.columns).toBe('a,b,c,d');
  });

  it('cleans quotes and whitespace from the template and names missing columns colN', async () => {
    expect((await parse({ temp: '"a",  "b" , " c ","d  " ' }, '1,2,3,4\n'))[0]!.payload).toEqual({ a: 1, b: 2, c: 3, d: 4 });
    expect((await parse({ temp: '' }, '1,2,3,4\n'))[0]!.payload).toEqual({ col1: 1, col2: 2, col3: 3, col4: 4 });
    expect((await parse({ temp: 'a,,,d' }, '1,2,3,4\n'))[0]!.payload).toEqual({ a: 1, d: 4 });
  });

  it('handles quotes, doubled quotes, separators inside quotes; leading zeros and + stay strings', async () => {
    const [msg] = await parse({ temp: 'a,b,c,d,e,f,g,h' }, '"1","-2","+3","04","","-05","ab""cd","with,a,comma"\n');
    expect(msg!.payload).toEqual({ a: 1, b: -2, c: '+3', d: '04', f: '-05', g: 'ab"cd', h: 'with,a,comma' });
    const [numbers] = await parse({ temp: 'a,b,c,d,e' }, ' 1.23 ,  -123,1e3 ,    0  ,127.0.0.1\n');
    expect(numbers!.payload).toEqual({ a: 1.23, b: -123, c: 1000, d: 0, e: '127.0.0.1' });
  });

  it('keeps newlines inside quotes and recovers from an odd number of quotes', async () => {
    const [msg] = await parse({ temp: 'a,b,c' }, '"with a\nnew line","and a\rcarriage return","and why\r\nnot both"\n');
    expect(msg!.payload).toEqual({ a: 'with a\nnew line', b: 'and a\rcarriage return', c: 'and why\r\nnot both' });
    const node = await createTestNode(csvNode, { temp: 'a,b,c' });
    const [odd] = await node.input({ payload: '"with,a"n,odd","num"ber","of"qu"ot"es"\n' });
    expect(odd!.msg.payload).toEqual({ a: 'with,an', b: 'odd,number', c: 'ofquotes\n' });
    const [next] = await node.input({ payload: '"this is","a normal","line"' });
    expect(next!.msg.payload).toEqual({ a: 'this is', b: 'a normal', c: 'line' });
  });

  it('reads a header with quoted names and another separator', async () => {
    const [msg] = await parse({ hdrin: true, sep: ';' }, 'a;b b;"c;c";" d, d "\n1;2;3;4\n');
    expect(msg!.payload).toEqual({ a: 1, 'b b': 2, 'c;c': 3, 'd, d': 4 });
    expect(msg!.columns).toBe('a,b b,c;c,"d, d"');
  });

  it('leaves numbers as strings when number parsing is off', async () => {
    const [msg] = await parse({ temp: 'a,b', strings: false }, '1,2.5');
    expect(msg!.payload).toEqual({ a: '1', b: '2.5' });
  });

  it('sends a message per row with msg.parts, using the first line as column names', async () => {
    const msgs = await parse({ temp: 'a,b,c,d', hdrin: true }, 'w,x,y,z\n1,2,3,4\n\n5,6,7,8');
    expect(msgs.map((m) => m.payload)).toEqual([
      { w: 1, x: 2, y: 3, z: 4 },
      { w: 5, x: 6, y: 7, z: 8 },
    ]);
    expect(msgs.map((m) => ({ ...(m.parts as object), id: 'x' }))).toEqual([
      { id: 'x', index: 0, count: 2 },
      { id: 'x', index: 1, count: 2 },
    ]);
    expect((msgs[0]!.parts as { id: string }).id).toBe((msgs[1]!.parts as { id: string }).id);
  });

  it('outputs every row in one message with multi "mult", skipping lines', async () => {
    const [msg] = await parse({ temp: 'a,b,c,d', multi: 'mult', skip: '1' }, 'junk line\n1,2,3,4\n5,-6,07,+8\n9,0,a,b\nc,d,e,f');
    expect(msg!.payload).toEqual([
      { a: 1, b: 2, c: 3, d: 4 },
      { a: 5, b: -6, c: '07', d: '+8' },
      { a: 9, b: 0, c: 'a', d: 'b' },
      { a: 'c', b: 'd', c: 'e', d: 'f' },
    ]);
  });

  it('treats empty fields as missing, or as null / "" when asked', async () => {
    expect((await parse({ temp: 'a,b,c' }, '1,,3'))[0]!.payload).toEqual({ a: 1, c: 3 });
    expect((await parse({ temp: 'a,b,c', include_null_values: true }, '1,,3'))[0]!.payload).toEqual({ a: 1, b: null, c: 3 });
    expect((await parse({ temp: 'a,b,c', include_empty_strings: true }, '1,"",3'))[0]!.payload).toEqual({ a: 1, b: '', c: 3 });
    expect((await parse({ temp: 'a,b,c', include_null_values: true }, '1,2,'))[0]!.payload).toEqual({ a: 1, b: 2, c: null });
  });

  for (const sep of [',', '\t']) {
    for (const ending of ['\n', '\r\n', '\r']) {
      it(`reads a leading ${JSON.stringify(sep)} as an empty first field (line ending ${JSON.stringify(ending)})`, async () => {
        const payload = `${sep}1${sep}2${ending}${sep}3${sep}4${ending}`;
        const withNulls = await parse({ temp: 'a,b,c', multi: 'mult', sep: sep === '\t' ? '\\t' : sep, include_null_values: true }, payload);
        expect(withNulls[0]!.payload).toEqual([
          { a: null, b: 1, c: 2 },
          { a: null, b: 3, c: 4 },
        ]);
        const without = await parse({ temp: 'a,b,c', multi: 'mult', sep: sep === '\t' ? '\\t' : sep }, payload);
        expect(without[0]!.payload).toEqual([
          { b: 1, c: 2 },
          { b: 3, c: 4 },
        ]);
      });
    }
  }

  it('gathers lines arriving one per message (msg.parts) into one array with multi "mult"', async () => {
    const node = await createTestNode(csvNode, { temp: 'a,b', multi: 'mult' });
    const lines = ['1,2', '3,4', '5,6'];
    const out = [];
    for (let index = 0; index < lines.length; index++) out.push(...(await node.input({ payload: lines[index], parts: { id: 'p', index, count: 3, type: 'string', ch: '\n' } })));
    expect(out).toHaveLength(1);
    expect(out[0]!.msg.payload).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
      { a: 5, b: 6 },
    ]);
    expect(out[0]!.msg.parts).toBeUndefined();
  });

  it('marks the last row of the last part complete, and shifts indexes past a header line', async () => {
    const node = await createTestNode(csvNode, { hdrin: true });
    const first = await node.input({ payload: 'x,y', parts: { id: 'p', index: 0, count: 3 } });
    expect(first).toEqual([]);
    const second = await node.input({ payload: '1,2', parts: { id: 'p', index: 1, count: 3 } });
    const third = await node.input({ payload: '3,4', parts: { id: 'p', index: 2, count: 3 } });
    expect(second[0]!.msg).toMatchObject({ payload: { x: 1, y: 2 }, parts: { index: 0, count: 2 } });
    expect(third[0]!.msg).toMatchObject({ payload: { x: 3, y: 4 }, parts: { index: 1, count: 2 }, complete: true });
  });

  it('warns about an odd number of quotes', async () => {
    const node = await createTestNode(csvNode, { temp: 'a,b' });
    await node.input({ payload: '"open,1' });
    expect(node.logs.map((l) => l.message)).toContain('Malformed CSV data - output probably corrupt.');
  });
});

describe('csv node: objects to CSV', () => {
  async function write(props: Partial<CsvProps>, payload: unknown, extra: Record<string, unknown> = {}) {
    const node = await createTestNode(csvNode, props);
    const [sent] = await node.input({ payload, ...extra });
    return sent!.msg;
  }

  it('writes an object, an array of objects, a plain array and an array of arrays', async () => {
    expect((await write({ temp: 'a,b,c,d' }, { d: 1, b: 3, c: 2, a: 4 })).payload).toBe('4,3,2,1\n');
    expect((await write({ temp: 'a,b,c,d' }, [{ d: 1, b: 3, c: 2, a: 4 }, { d: 4, a: 1, c: 3, b: 2 }])).payload).toBe('4,3,2,1\n1,2,3,4\n');
    expect((await write({ temp: 'a,b,c,d' }, [0, 1, 2, 3, 4])).payload).toBe('0,1,2,3,4\n');
    expect((await write({ temp: 'a,b,c,d' }, [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0]])).payload).toBe('0,1,2,3,4\n4,3,2,1,0\n');
  });

  it('includes a header row and uses the configured line ending', async () => {
    const msg = await write({ temp: 'a,b,c,d', hdrout: 'all', ret: '\\r\\n' }, [{ d: 1, b: 3, c: 2, a: 4 }]);
    expect(msg.payload).toBe('a,b,c,d\r\n4,3,2,1\r\n');
    expect(msg.columns).toBe('a,b,c,d');
  });

  it('quotes separators and quotes, and writes sub-objects as JSON', async () => {
    const msg = await write({ temp: 'a,b,c,d' }, { d: { sub: 'object' }, b: 'text,with,commas', c: 'This "is" a banana', a: { sub2: undefined } });
    expect(msg.payload).toBe('{},"text,with,commas","This ""is"" a banana","{""sub"":""object""}"\n');
  });

  it('takes columns from the first object, or from msg.columns, when there is no template', async () => {
    expect((await write({ hdrout: 'all' }, [{ d: 1, b: 3, c: 2, a: 4 }, { d: 4, a: 1, c: 3, b: 'f\ng' }])).payload).toBe('d,b,c,a\n1,3,2,4\n4,"f\ng",3,1\n');
    expect((await write({ hdrout: 'all' }, [{ x: 1, y: 2 }], { columns: 'y,x' })).payload).toBe('y,x\n2,1\n');
    const noHeader = await createTestNode(csvNode, { temp: ' ' });
    const [sent] = await noHeader.input({ payload: { d: 1, b: 'foo', c: 'ba"r', a: 'di,ng', e: undefined, f: 'undefined', g: null, h: 'null' } });
    expect(sent!.msg.payload).toBe('1,foo,"ba""r","di,ng",,undefined,null\n');
    expect(noHeader.logs.map((l) => l.message)).toContain('No columns template specified for object -> CSV.');
  });

  it('writes template columns in order, blanks for skipped or missing ones, null as "null"', async () => {
    const msg = await write({ temp: 'a,b,c,,e,f,g,h,i,j,k' }, { e: 0, d: 1, b: 'foo', c: true, a: 4, f: 'Hello\nWorld', h: undefined, i: 'undefined', j: null, k: 'null' });
    expect(msg.payload).toBe('4,foo,true,,0,"Hello\nWorld",,,undefined,null,null\n');
  });

  it('keeps msg.columns for the rest of a sequence and sends the header once', async () => {
    const node = await createTestNode(csvNode, { hdrout: 'once', ret: '\r\n' });
    const row = [{ d: 1, b: 3, c: 2, a: 4 }];
    const first = await node.input({ payload: row, columns: 'a,,b,a', parts: { index: 0 } });
    const second = await node.input({ payload: row, parts: { index: 1 } });
    expect(first[0]!.msg.payload).toBe('a,,b,a\r\n4,,3,4\r\n');
    expect(second[0]!.msg.payload).toBe('4,,3,4\r\n');
  });

  it('sends the header once until msg.reset', async () => {
    const node = await createTestNode(csvNode, { temp: 'a', hdrout: 'once' });
    const texts = [];
    for (const msg of [{ payload: { a: 1 } }, { payload: { a: 2 } }, { payload: { a: 3 }, reset: true }]) texts.push((await node.input(msg))[0]!.msg.payload);
    expect(texts).toEqual(['a\n1\n', '2\n', 'a\n3\n']);
  });

  it('passes a message without payload and warns about numbers', async () => {
    const node = await createTestNode(csvNode, { temp: 'a' });
    expect(await node.input({ data: { a: 1 } })).toEqual([{ port: 0, msg: { data: { a: 1 } } }]);
    expect(await node.input({ payload: 1 })).toEqual([]);
    expect(node.logs.map((l) => l.message)).toContain('This node only handles CSV strings or js objects.');
  });

  it('round-trips a parsed CSV back to the same text', async () => {
    const parsed = await parse({ temp: 'name,note', multi: 'mult' }, 'Ada,"likes ""math"", and tea"\nBob,plain\n');
    const back = await write({ temp: 'name,note' }, parsed[0]!.payload);
    expect(back.payload).toBe('Ada,"likes ""math"", and tea"\nBob,plain\n');
  });
});

describe('csv node under host limits (issue 7)', () => {
  /** Node-RED's own column splitter, the quadratic one this node no longer uses. */
  const nodeRedSplit = (text: string, sep: string, quote: string) => {
    const esc = (s: string) => s.replace(/[-[\]{}()*+!<=:?./\\^$|#\s,]/g, '\\$&');
    return text.split(new RegExp(`${esc(sep)}(?=(?:(?:[^${esc(quote)}]*${esc(quote)}){2})*[^${esc(quote)}]*$)`, 'g'));
  };

  it('splits column lists exactly as Node-RED does, quotes balanced or not', () => {
    const alphabet = ['a', ',', '"', ';', ' ', "'"];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let n = 0; n < 2000; n++) {
      const text = Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      for (const [sep, quote] of [[',', '"'], [';', "'"], [',;', '"'], ['"', "'"]] as const) {
        expect(splitOutsideQuotes(text, sep, quote), `${JSON.stringify(text)} sep ${sep} quote ${quote}`).toEqual(nodeRedSplit(text, sep, quote));
      }
    }
  });

  it('a 100,000-column header (690 KB, 60 s+ before) is refused at once with the column limit', async () => {
    expect(splitOutsideQuotes('a,b,c,d', ',', '"', 2)).toEqual(['a', 'b']);
    const header = Array.from({ length: 100_000 }, (_, i) => `column${i}`).join(',');
    const node = await createTestNode(csvNode, { hdrin: true, multi: 'mult' });
    const started = performance.now();
    await expect(node.input({ payload: `${header}\n1,2,3\n` })).rejects.toThrow('The CSV column list has more columns than the limit of 16384 (FLOWCREW_CSV_MAX_COLUMNS)');
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a 16,000-column header (3.9 s before) parses in linear time', async () => {
    const header = Array.from({ length: 16_000 }, (_, i) => `"c${i}"`).join(',');
    const row = Array.from({ length: 16_000 }, (_, i) => i).join(',');
    const node = await createTestNode(csvNode, { hdrin: true, multi: 'mult' });
    const started = performance.now();
    const [sent] = await node.input({ payload: `${header}\n${row}\n` });
    expect((sent!.msg.payload as Array<Record<string, number>>)[0]!.c15999).toBe(15999);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('a data row with more fields than the column limit is refused', async () => {
    const node = await createTestNode(csvNode, { multi: 'mult' });
    await expect(node.input({ payload: ','.repeat(20_000) })).rejects.toThrow('A CSV row has more columns than the limit of 16384 (FLOWCREW_CSV_MAX_COLUMNS)');
  });
});

describe('csv node: large documents', () => {
  it('parses a multi-megabyte document, letting other work in meanwhile', async () => {
    const text = 'a,b,c\n' + Array.from({ length: 200_000 }, (_, i) => `${i},x${i},"q ${i}"`).join('\n') + '\n';
    const node = await createTestNode(csvNode, { hdrin: true, multi: 'mult' });
    let last = performance.now();
    let longestStall = 0;
    const timer = setInterval(() => {
      longestStall = Math.max(longestStall, performance.now() - last);
      last = performance.now();
    }, 2);
    const [sent] = await node.input({ payload: text });
    clearInterval(timer);
    const rows = sent!.msg.payload as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(200_000);
    expect(rows[199_999]).toEqual({ a: 199_999, b: 'x199999', c: 'q 199999' });
    expect(longestStall).toBeLessThan(500);
  });
});
