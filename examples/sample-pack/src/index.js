// @ts-check
/**
 * A third-party pack with the powers of the core pack, built only on the published SDK:
 * - `sample-set` sets a message property to a Node-RED typed value (str, num, json, msg, flow, jsonata, ...), with the
 *   same property paths, typed values and JSONata (under the same host limits) as core's change node;
 * - `sample-error-log` is an error handler (the role catch nodes have): it gets each failure of a node in its scope.
 */
import { defineNode } from '@flowcrew/sdk';
import { assertPropertyExpression, prepareTypedValue, setMessageProperty } from '@flowcrew/sdk/util';

/** @typedef {{ property: string, value: string, valueType: string }} SetProps */

export const setNode = defineNode(
  /** @type {import('@flowcrew/sdk').NodeDefinition<SetProps>} */ ({
    type: 'sample-set',
    category: 'transform',
    label: 'sample set',
    inputs: 1,
    outputs: 1,
    props: {
      type: 'object',
      properties: {
        property: { type: 'string', default: 'payload', title: 'Property', description: 'A message property path, e.g. payload.total' },
        value: { type: 'string', default: '', title: 'Value' },
        valueType: { type: 'string', enum: ['str', 'num', 'bool', 'json', 'msg', 'flow', 'global', 'jsonata', 'date'], default: 'str', title: 'Value type' },
      },
      additionalProperties: false,
    },
    help: '# sample set\nSets `msg.<property>` to a typed value: text, number, JSON, another message property, context or a JSONata expression.',
    create({ props, context }) {
      // Checked once at deploy: a bad path or expression fails the deploy, not each message.
      assertPropertyExpression(props.property, 'property');
      const value = prepareTypedValue(props.value, props.valueType, context, 'value');
      return {
        async onInput(msg) {
          setMessageProperty(msg, props.property, await value.get(msg));
          return msg;
        },
      };
    },
  }),
);

export const errorLogNode = defineNode(
  /** @type {import('@flowcrew/sdk').NodeDefinition<{ scope: string[] | null, label: string }>} */ ({
    type: 'sample-error-log',
    category: 'flow',
    label: 'sample error log',
    inputs: 0,
    outputs: 1,
    role: { kind: 'error-handler', scope: { prop: 'scope', whenUnset: 'all' } },
    props: {
      type: 'object',
      properties: {
        scope: { anyOf: [{ type: 'null' }, { type: 'array', items: { type: 'string' } }], default: null, title: 'Watched nodes', description: 'null: every node of the flow' },
        label: { type: 'string', default: 'failed', title: 'Label' },
      },
      additionalProperties: false,
    },
    help: '# sample error log\nReceives the message a watched node failed on and sends `{ label, node, message }` as its payload.',
    create({ props }) {
      return {
        onInput(msg) {
          const error = /** @type {{ message?: string, source?: { id?: string } } | undefined} */ (msg.error);
          return { ...msg, payload: { label: props.label, node: error?.source?.id, message: error?.message } };
        },
      };
    },
  }),
);

export const nodes = [setNode, errorLogNode];
