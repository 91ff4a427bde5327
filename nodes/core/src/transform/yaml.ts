/**
 * yaml (Node-RED's "yaml" node): convert a message property between a YAML string and a JavaScript value.
 */
import { defineNode } from '@flowcrew/sdk';
import { jsYaml } from '../shared/libs.ts';
import { parseYamlLimited } from '../shared/parsers.ts';
import { assertPropertyExpression, getMessageProperty, setMessageProperty } from '@flowcrew/sdk/util';

export interface YamlProps {
  property: string;
  /** Where the result goes; defaults to `property` (Node-RED's propertyOut). */
  propertyOut?: string;
}

export const yamlNode = defineNode<YamlProps>({
  type: 'yaml',
  category: 'parser',
  label: 'yaml',
  icon: 'article',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      property: { type: 'string', default: 'payload', title: 'Property' },
      propertyOut: { type: 'string', title: 'Output property', description: 'Defaults to the input property.' },
    },
  },
  help: `Converts a message property between a YAML string and its JavaScript value, like Node-RED's *yaml* node.

### Properties
- **Property**: the message property to convert (default \`payload\`).
- **Output property**: where to put the result (default: the same property).

### Inputs
Any message. A string is parsed as YAML; an object or array is turned into a YAML string. A message without
the property passes unchanged.

### Outputs
1. The message with the converted value.

### Errors
A string that is not valid YAML fails the message with the parser's error. A value that cannot be turned into
YAML fails with "Failed to convert payload". Buffers, numbers and booleans are dropped with a warning, as in Node-RED.

### Limits
A document that would be larger than a message once its aliases are expanded (more than \`FLOWCREW_MAX_ITEMS\`
values, 1,000,000, or \`FLOWCREW_MAX_MESSAGE_BYTES\` characters), or nested more than \`FLOWCREW_MAX_DEPTH\` (128)
levels deep, fails the message with an error naming the limit: a "billion laughs" document fails in milliseconds.`,
  create({ props }) {
    const property = props.property || 'payload';
    const propertyOut = props.propertyOut || property;
    assertPropertyExpression(property, `property "${property}"`);
    assertPropertyExpression(propertyOut, `output property "${propertyOut}"`);
    return {
      onInput(msg, ctx) {
        const value = getMessageProperty(msg, property);
        if (value === undefined) return msg;
        if (typeof value === 'string') {
          setMessageProperty(msg, propertyOut, parseYamlLimited(value));
          return msg;
        }
        if (typeof value === 'object') {
          if (Buffer.isBuffer(value)) {
            ctx.log.warn('Ignored non-object payload');
            return null;
          }
          let text: string;
          try {
            text = jsYaml().dump(value);
          } catch {
            throw new Error('Failed to convert payload');
          }
          setMessageProperty(msg, propertyOut, text);
          return msg;
        }
        ctx.log.warn('Ignored unsupported payload type');
        return null;
      },
    };
  },
});
