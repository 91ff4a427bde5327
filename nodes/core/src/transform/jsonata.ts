/**
 * jsonata (Flowcrew): evaluate one JSONata expression against the whole message and store the result in a
 * message property. The expression is compiled once, at deploy.
 */
import { defineNode } from '@flowcrew/sdk';
import { compileJsonata } from '@flowcrew/sdk/util';
import { assertPropertyExpression, setMessageProperty } from '@flowcrew/sdk/util';

export interface JsonataProps {
  expression: string;
  property: string;
}

export const jsonataNode = defineNode<JsonataProps>({
  type: 'jsonata',
  category: 'transform',
  label: 'JSONata',
  icon: 'data_object',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    required: ['expression'],
    properties: {
      expression: { type: 'string', minLength: 1, 'x-language': 'jsonata', title: 'Expression', description: 'A JSONata expression; its input is the whole message.', default: 'payload' },
      property: { type: 'string', minLength: 1, default: 'payload', title: 'Result property', description: 'Message property that receives the result.' },
    },
  },
  help: `Evaluates a [JSONata](https://jsonata.org) expression and stores its result in the message.

### Properties
- **Expression**: the JSONata expression. Its input is the whole message, so \`payload.price * 2\` reads
  \`msg.payload.price\` and \`topic\` reads \`msg.topic\`. \`$flowContext("key")\` and \`$globalContext("key")\` read
  flow and global context; \`$env(name)\` reads the project's environment variable (an empty string when not set).
- **Result property**: the message property that receives the result (default \`payload\`; paths such as
  \`result.total\` create the missing objects). When the expression yields nothing (no match), the property is
  removed.

### Inputs
Any message.

### Outputs
1. The message, with the result stored in **Result property**.

### Errors
A syntax error in the expression is reported when the flow is deployed; an error while evaluating it
(for example calling an undefined function) fails the message.`,
  create({ props, context }) {
    const property = props.property || 'payload';
    assertPropertyExpression(property, `property "${property}"`);
    const expression = compileJsonata(props.expression ?? '', context);
    return {
      async onInput(msg) {
        const result = await expression.evaluate(msg);
        if (!setMessageProperty(msg, property, result)) throw new Error(`Cannot set property "${property}": a parent of it is not an object`);
        return msg;
      },
    };
  },
});
