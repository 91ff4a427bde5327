/**
 * MongoDB filters, updates and pipelines are written in props as Extended JSON (`{ "$oid": ... }`,
 * `{ "$date": ... }`); message data enters only through `{ "$param": "payload.id" }` placeholders, and a value taken
 * from the message may not carry operators (keys starting with `$`): message data is never a query operator.
 */
import { mongodbSync } from '../shared/libs.ts';
import { getProperty, NodeInputError, type FlowMessage } from '@flowcrew/sdk';

function assertNoOperators(value: unknown, where: string): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) return value.forEach((v, i) => assertNoOperators(v, `${where}[${i}]`));
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('$')) throw new NodeInputError(`${where} holds the key "${key}": a value from the message may not contain MongoDB operators`);
    assertNoOperators(v, `${where}.${key}`);
  }
}

/** The props document (Extended JSON) with every `{ "$param": path }` replaced by that message property's value. */
export function bind(template: unknown, msg: FlowMessage, where: string): any {
  const walk = (node: unknown, at: string): unknown => {
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) return node.map((v, i) => walk(v, `${at}/${i}`));
    const keys = Object.keys(node);
    if (keys.length === 1 && keys[0] === '$param') {
      const path = (node as { $param: unknown }).$param;
      if (typeof path !== 'string') throw new NodeInputError(`${at}: $param must name a message property`);
      const value = getProperty(msg, path);
      if (value === undefined) throw new NodeInputError(`${at}: the message has no ${path}`);
      assertNoOperators(value, `msg.${path}`);
      return value;
    }
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, `${at}/${k}`)]));
  };
  // Extended JSON first (ObjectId, dates from the props), then the message's plain values.
  return walk(mongodbSync().BSON.EJSON.deserialize(template as object, { relaxed: true }), where);
}

/** Documents to write, from the message: plain JSON data, so no operator keys at the top of a document. */
export function checkDocument(doc: unknown, index: number): Record<string, unknown> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new NodeInputError(`document ${index} is not an object`);
  for (const key of Object.keys(doc)) if (key.startsWith('$')) throw new NodeInputError(`document ${index} has the key "${key}": field names may not start with $`);
  return doc as Record<string, unknown>;
}
