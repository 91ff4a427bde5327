/**
 * json (Node-RED's "json" node): convert a message property between a JSON string and a JavaScript value.
 */
import { defineNode } from '@flowcrew/sdk';
import { assertPropertyExpression, getMessageProperty, setMessageProperty } from './message.ts';

export interface JsonProps {
  /** '' converts either way, 'str' always to a JSON string, 'obj' always to a value. */
  action: '' | 'str' | 'obj';
  property: string;
  /** Indent the JSON string (4 spaces). */
  pretty: boolean;
}

export const jsonNode = defineNode<JsonProps>({
  type: 'json',
  category: 'parser',
  label: 'json',
  icon: 'data_object',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      action: { type: 'string', enum: ['', 'str', 'obj'], default: '', title: 'Action', description: '"" converts between JSON string and object; "str" always to a string; "obj" always to an object.' },
      property: { type: 'string', default: 'payload', title: 'Property' },
      pretty: { type: 'boolean', default: false, title: 'Format JSON string' },
    },
  },
  help: `Converts a message property between a JSON string and its JavaScript value, like Node-RED's *json* node.

### Properties
- **action**: \`""\` (default) converts in whichever direction applies: a string is parsed, an object, array,
  number or boolean is turned into a JSON string. \`str\` only turns values into strings (strings pass unchanged);
  \`obj\` only parses strings (values pass unchanged).
- **property**: the message property to convert (default \`payload\`).
- **pretty**: indent the JSON string with 4 spaces.

### Inputs
Any message. A message without the property passes unchanged.

### Outputs
1. The message with the property converted.

### Errors
A string that is not valid JSON fails the message with the parser's error (e.g. \`Unexpected token\`).
A value that cannot be serialised (a circular structure) fails with "Failed to convert payload".
Buffers and other unsupported types are dropped with a warning, as in Node-RED.
JSON Schema validation via \`msg.schema\` is not supported: such a message fails rather than passing unvalidated.`,
  create({ props }) {
    const action = props.action || '';
    const property = props.property || 'payload';
    const indent = props.pretty ? 4 : 0;
    if (!['', 'str', 'obj'].includes(action)) throw new Error(`unknown action "${action}"`);
    assertPropertyExpression(property, `property "${property}"`);
    return {
      onInput(msg, ctx) {
        if (msg.schema !== undefined && msg.schema !== null && msg.schema !== '') {
          throw new Error('msg.schema is set but JSON Schema validation is not supported by this json node');
        }
        const value = getMessageProperty(msg, property);
        if (value === undefined) return msg;
        if (typeof value === 'string') {
          if (action === '' || action === 'obj') setMessageProperty(msg, property, JSON.parse(value));
          return msg;
        }
        if (typeof value === 'object' || typeof value === 'boolean' || typeof value === 'number') {
          if (action === 'obj') return msg;
          if (Buffer.isBuffer(value)) {
            ctx.log.warn('Ignored non-object payload');
            return null;
          }
          let text: string;
          try {
            text = JSON.stringify(value, null, indent);
          } catch {
            throw new Error('Failed to convert payload');
          }
          setMessageProperty(msg, property, text);
          return msg;
        }
        ctx.log.warn('Ignored unsupported payload type');
        return null;
      },
    };
  },
});
