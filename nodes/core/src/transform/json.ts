/**
 * json (Node-RED's "json" node): convert a message property between a JSON string and a JavaScript value,
 * validating it against `msg.schema` when the message carries one.
 */
import { defineNode, NodeInputError, type FlowMessage } from '@flowcrew/sdk';
import { parseJsonLimited } from '../shared/parsers.ts';
import { assertPropertyExpression, getMessageProperty, setMessageProperty } from '@flowcrew/sdk/util';
import { SchemaCache, type SchemaValidator } from './json-schema.ts';

export interface JsonProps {
  /** '' converts either way, 'str' always to a JSON string, 'obj' always to a value. */
  action: '' | 'str' | 'obj';
  property: string;
  /** Indent the JSON string (4 spaces). */
  pretty: boolean;
}

/** Shared by every json node: flows usually send the same few schemas over and over. */
const schemas = new SchemaCache();

/** Node-RED's texts, so catch nodes matching on them behave the same. */
const SCHEMA_ERROR = 'JSON Schema error';

function schemaValidator(schema: unknown): SchemaValidator {
  try {
    return schemas.validator(schema);
  } catch (error) {
    throw new NodeInputError(`${SCHEMA_ERROR}: failed to compile schema`, { reason: (error as Error).message });
  }
}

/** Node-RED: an invalid value fails the message, with ajv's errors in msg.schemaError for a catch node. */
function failIfInvalid(msg: FlowMessage, validate: SchemaValidator, value: unknown): void {
  const check = validate(value);
  if (check.valid) return;
  msg.schemaError = check.errors;
  throw new NodeInputError(`${SCHEMA_ERROR}: ${check.text}`, check.errors);
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
- **Action**: \`""\` (default) converts in whichever direction applies: a string is parsed, an object, array,
  number or boolean is turned into a JSON string. \`str\` only turns values into strings (strings pass unchanged);
  \`obj\` only parses strings (values pass unchanged).
- **Property**: the message property to convert (default \`payload\`).
- **Format JSON string**: indent the JSON string with 4 spaces.

### Inputs
Any message. A message without the property passes unchanged.

### Outputs
1. The message with the property converted.

### Errors
A string that is not valid JSON fails the message with the parser's error (e.g. \`Unexpected token\`).
A value that cannot be serialised (a circular structure) fails with "Failed to convert payload".
Buffers and other unsupported types are dropped with a warning, as in Node-RED.
JSON nested more than \`FLOWCREW_MAX_DEPTH\` (128) levels deep, or longer than \`FLOWCREW_MAX_MESSAGE_BYTES\`,
fails the message with an error naming the limit.

### JSON Schema
A message with \`msg.schema\` (a JSON Schema, draft-07 or draft-06) has its value checked against it: the parsed
value when converting from a string, the value itself otherwise. A valid message goes on without \`msg.schema\`.
An invalid one fails with "JSON Schema error: " and the reasons, and carries them in \`msg.schemaError\` (ajv's
error objects) for a catch node. A schema that does not compile fails the message with "JSON Schema error: failed
to compile schema". A message without the property passes unchecked.`,
  create({ props }) {
    const action = props.action || '';
    const property = props.property || 'payload';
    const indent = props.pretty ? 4 : 0;
    if (!['', 'str', 'obj'].includes(action)) throw new Error(`unknown action "${action}"`);
    assertPropertyExpression(property, `property "${property}"`);
    return {
      onInput(msg, ctx) {
        // Like Node-RED: any truthy msg.schema, compiled before the property is even read.
        const validate = msg.schema ? schemaValidator(msg.schema) : undefined;
        const value = getMessageProperty(msg, property);
        if (value === undefined) return msg;
        if (typeof value === 'string') {
          if (action === 'str') {
            if (validate) failIfInvalid(msg, validate, parseJsonLimited(value));
          } else {
            const parsed: unknown = parseJsonLimited(value);
            setMessageProperty(msg, property, parsed);
            if (validate) failIfInvalid(msg, validate, parsed);
          }
        } else if (typeof value === 'object' || typeof value === 'boolean' || typeof value === 'number') {
          if (action === 'obj') {
            if (validate) failIfInvalid(msg, validate, value);
          } else {
            if (Buffer.isBuffer(value)) {
              ctx.log.warn('Ignored non-object payload');
              return null;
            }
            // Node-RED checks the value before turning it into a string: an invalid message keeps its value.
            if (validate) failIfInvalid(msg, validate, value);
            let text: string;
            try {
              text = JSON.stringify(value, null, indent);
            } catch {
              throw new Error('Failed to convert payload');
            }
            setMessageProperty(msg, property, text);
          }
        } else {
          ctx.log.warn('Ignored unsupported payload type');
          return null;
        }
        // A validated message goes on without its schema, as in Node-RED.
        if (validate) delete msg.schema;
        return msg;
      },
    };
  },
});
