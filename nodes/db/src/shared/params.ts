/**
 * Statement parameters, for every SQL node of the pack: the SQL text comes from the node's props; message data only
 * ever travels as bound values ($1 / ?), each named in props as a message property or a literal.
 */
import { getProperty, NodeInputError, type FlowMessage } from '@flowcrew/sdk';

/** A statement parameter: a property of the message ('payload.id' or { from }) or a literal ({ value }). */
export type Param = string | { from: string } | { value: unknown };

export const paramSchema = {
  oneOf: [
    { type: 'string', minLength: 1, title: 'Message property', description: 'A property of the message, e.g. payload.id' },
    { type: 'object', title: 'Message property', required: ['from'], additionalProperties: false, properties: { from: { type: 'string', minLength: 1 } } },
    { type: 'object', title: 'Fixed value', required: ['value'], additionalProperties: false, properties: { value: {} } },
  ],
};

/**
 * The values of `params` for `msg`, in order; a missing property fails naming it (`label(i)` says how the
 * statement calls parameter i: "$1" or "?1"). `encode` turns a value into what the driver should bind.
 */
export function resolveParams(params: readonly Param[] | undefined, msg: FlowMessage, where: string, label: (i: number) => string, encode: (value: unknown) => unknown): unknown[] {
  return (params ?? []).map((param, i) => {
    const value = typeof param === 'string' ? getProperty(msg, param) : 'from' in param ? getProperty(msg, param.from) : param.value;
    if (value === undefined) throw new NodeInputError(`${where}/${i} (${label(i)}): the message has no ${typeof param === 'string' ? param : 'from' in param ? param.from : 'value'}`);
    return encode(value);
  });
}

/** Plain objects (and, when `arraysToo`, arrays) as JSON text, for JSON columns; dates and buffers as they are. */
export function jsonEncoded(value: unknown, arraysToo: boolean): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date || Buffer.isBuffer(value)) return value;
  if (Array.isArray(value) && !arraysToo) return value;
  return JSON.stringify(value);
}
