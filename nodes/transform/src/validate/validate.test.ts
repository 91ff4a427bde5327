/** The validate node: message and row modes, pointers and messages, schema dialects, and compile errors at save. */
import { afterAll, describe, expect, it } from 'vitest';
import { isBlobRef, readRows, type BlobRef } from '@flowcrew/sdk';
import { closeTestServices, createTestNode, testBlobStore } from '@flowcrew/sdk/testing';
import { validateNode, type ValidateProps } from './node.ts';

afterAll(closeTestServices);

const order = {
  type: 'object',
  required: ['id', 'email', 'items'],
  properties: {
    id: { type: 'integer' },
    email: { type: 'string', format: 'email' },
    items: { type: 'array', items: { type: 'object', required: ['sku', 'price'], properties: { sku: { type: 'string', pattern: '^[A-Z]{3}-\\d+$' }, price: { type: 'number', minimum: 0 } } } },
  },
};

const node = (props: Partial<ValidateProps>) => createTestNode(validateNode, { schema: order, ...props });

describe('validate node: one value per message', () => {
  it('sends a valid message on the first output, unchanged', async () => {
    const n = await node({});
    const msg = { payload: { id: 1, email: 'a@example.com', items: [{ sku: 'ABC-1', price: 3 }] }, topic: 't' };
    expect(await n.input(msg)).toEqual([{ port: 0, msg }]);
  });

  it('sends an invalid message on the second output with every problem as a pointer and a message', async () => {
    const n = await node({});
    const [out] = await n.input({ payload: { id: 1.5, email: 'not-an-email', items: [{ sku: 'ABC-1', price: 3 }, { sku: 'abc', price: -1 }, { price: 2 }] } });
    expect(out!.port).toBe(1);
    const issues = (out!.msg.validationErrors as Array<{ pointer: string; message: string; keyword: string }>).map(({ pointer, message }) => ({ pointer, message }));
    expect(issues).toEqual([
      { pointer: '/id', message: 'must be integer' },
      { pointer: '/email', message: 'must match format "email"' },
      { pointer: '/items/1/sku', message: 'must match pattern "^[A-Z]{3}-\\d+$"' },
      { pointer: '/items/1/price', message: 'must be >= 0' },
      { pointer: '/items/2/sku', message: 'is required' },
    ]);
    expect((out!.msg.error as { message: string }).message).toBe(
      'msg.payload does not match the schema: /id must be integer; /email must match format "email"; /items/1/sku must match pattern "^[A-Z]{3}-\\d+$"; /items/1/price must be >= 0; /items/2/sku is required',
    );
  });

  it('lists at most maxIssues problems and says how many more there were', async () => {
    const n = await node({ maxIssues: 2, property: 'payload.order' });
    const [out] = await n.input({ payload: { order: { id: 'x', email: 1, items: 'none' } } });
    expect(out!.msg.validationErrors).toHaveLength(2);
    expect((out!.msg.error as { message: string }).message).toMatch(/^msg\.payload\.order does not match the schema: .* \(and 1 more\)$/);
  });

  it('reads a draft-07 schema as draft-07 (tuple items) when its $schema says so', async () => {
    const n = await node({ schema: { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }, { type: 'number' }], additionalItems: false } });
    expect((await n.input({ payload: ['a', 1] }))[0]!.port).toBe(0);
    const [bad] = await n.input({ payload: ['a', 'b', 3] });
    expect(bad!.port).toBe(1);
    expect((bad!.msg.validationErrors as Array<{ pointer: string }>).map((i) => i.pointer)).toEqual(['', '/1']);
  });

  it('checks a pattern in linear time: a catastrophic pattern on a long input answers instead of stalling', async () => {
    const n = await node({ schema: { type: 'string', pattern: '^(a+)+$' } });
    const [out] = await n.input({ payload: `${'a'.repeat(50_000)}!` });
    expect(out!.port).toBe(1);
  });

  it('reports a schema that does not compile when the flow is saved, at /schema', () => {
    expect(validateNode.validate!({ schema: { type: 'nope' } } as unknown as ValidateProps)).toEqual([{ pointer: '/schema', message: expect.stringMatching(/^does not compile: .*type/) }]);
    expect(validateNode.validate!({ schema: { $ref: '#/$defs/missing' } } as unknown as ValidateProps)[0]!.message).toMatch(/can't resolve reference #\/\$defs\/missing/);
    expect(validateNode.validate!({ schema: order } as unknown as ValidateProps)).toEqual([]);
  });
});

describe('validate node: rows', () => {
  const row = { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, name: { type: 'string', minLength: 1 } } };

  it('splits an array of rows into valid rows and invalid rows with their index and problems', async () => {
    const n = await node({ mode: 'rows', schema: row });
    const out = await n.input({ payload: [{ id: 1, name: 'a' }, { id: 'two' }, { id: 3 }, { name: '' }] });
    expect(out).toEqual([
      { port: 0, msg: { payload: [{ id: 1, name: 'a' }, { id: 3 }], validation: { rows: 4, valid: 2, invalid: 2 } } },
      {
        port: 1,
        msg: {
          payload: [
            { index: 1, row: { id: 'two' }, issues: [{ pointer: '/id', message: 'must be integer', keyword: 'type', schemaPath: '#/properties/id/type' }] },
            { index: 3, row: { name: '' }, issues: [expect.objectContaining({ pointer: '/id', message: 'is required' }), expect.objectContaining({ pointer: '/name', message: 'must NOT have fewer than 1 characters' })] },
          ],
          validation: { rows: 4, valid: 2, invalid: 2 },
        },
      },
    ]);
  });

  it('splits a JSON Lines blob into two blobs a page at a time, and sends nothing for an empty side', async () => {
    const blobs = await testBlobStore();
    const rows = Array.from({ length: 25_000 }, (_, i) => (i % 1000 === 7 ? { id: `bad-${i}` } : { id: i, name: `n${i}` }));
    const input = await blobs.put(rows.map((r) => `${JSON.stringify(r)}\n`).join(''), { contentType: 'application/x-ndjson' });
    const n = await node({ mode: 'rows', schema: row, pageSize: 500 });
    const [good, bad] = await n.input({ payload: input });
    expect(good!.msg.validation).toEqual({ rows: 25_000, valid: 24_975, invalid: 25 });
    expect(isBlobRef(good!.msg.payload) && isBlobRef(bad!.msg.payload)).toBe(true);
    const badRows: Array<{ index: number }> = [];
    for await (const page of readRows<{ index: number }>(blobs, bad!.msg.payload as BlobRef)) badRows.push(...page);
    expect(badRows.map((r) => r.index)).toEqual(Array.from({ length: 25 }, (_, i) => i * 1000 + 7));
    let goodCount = 0;
    for await (const page of readRows(blobs, good!.msg.payload as BlobRef)) goodCount += page.length;
    expect(goodCount).toBe(24_975);

    const allGood = await n.input({ payload: [{ id: 1 }] });
    expect(allGood.map((o) => o.port)).toEqual([0]);
  });

  it('fails a message whose rows are neither an array nor a blob, naming the property', async () => {
    const n = await node({ mode: 'rows', schema: row });
    await expect(n.input({ payload: 'rows' })).rejects.toThrow('msg.payload must be an array of rows or a blob reference of JSON Lines rows, got string');
  });
});
