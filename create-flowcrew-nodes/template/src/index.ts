/**
 * __NAME__: a Flowcrew node pack. The runtime imports the modules listed in package.json "flowcrew.nodes" and
 * registers the definitions they export as `nodes`. Everything a node may use comes from @flowcrew/sdk: the
 * contract here, Node-RED style message helpers in @flowcrew/sdk/util, a test harness in @flowcrew/sdk/testing.
 */
import { defineNode, NodeInputError } from '@flowcrew/sdk';
import { assertPropertyExpression, getMessageProperty, prepareTypedValue, setMessageProperty } from '@flowcrew/sdk/util';

export interface Props {
  /** Where the text is read from and written back to, e.g. "payload" or "payload.title". */
  property: string;
  /** Added after the text: a typed value (a string, or a JSONata expression, another property, ...). */
  suffix: string;
  suffixType: string;
}

export const __TYPE_ID__Node = defineNode<Props>({
  type: '__TYPE__',
  category: 'transform',
  label: '__LABEL__',
  icon: 'campaign',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      property: { type: 'string', default: 'payload', title: 'Property', description: 'Message property holding the text' },
      suffix: { type: 'string', default: '!', title: 'Suffix' },
      suffixType: { type: 'string', enum: ['str', 'num', 'msg', 'flow', 'global', 'jsonata'], default: 'str', title: 'Suffix type' },
    },
    additionalProperties: false,
  },
  help: `Upper-cases a text property and adds a suffix.

### Properties
- **property**: the message property with the text (default \`payload\`).
- **suffix**: added at the end; its type says how it is read (text, a JSONata expression, another property, context).
`,
  create({ props, context }) {
    // Work that can be done once is done here, at deploy: a bad path or expression fails the deploy, not each message.
    assertPropertyExpression(props.property, 'property');
    const suffix = prepareTypedValue(props.suffix, props.suffixType, context, 'suffix');
    return {
      async onInput(msg) {
        const text = getMessageProperty(msg, props.property);
        // A bad message is the sender's problem, not worth retrying: NodeInputError says so.
        if (typeof text !== 'string') throw new NodeInputError(`msg.${props.property} must be a string, not ${typeof text}`);
        setMessageProperty(msg, props.property, text.toUpperCase() + String(await suffix.get(msg)));
        return msg;
      },
    };
  },
});

export const nodes = [__TYPE_ID__Node];
