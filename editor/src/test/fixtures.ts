/** Node types shaped like the core pack's, for component and store tests. */
import type { FlowView, NodeTypeInfo } from '../api/types';

export const webhookType: NodeTypeInfo = {
  type: 'webhook',
  role: { kind: 'http-entry', methodProp: 'method', pathProp: 'url' },
  pack: '@flowcrew/nodes-core',
  category: 'trigger',
  label: 'webhook',
  color: '#e7e7ae',
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      method: { type: 'string', enum: ['GET', 'POST', 'PUT'], default: 'POST' },
      url: { type: 'string', pattern: '^/', minLength: 1, description: 'Path below /webhook' },
      responseTimeoutMs: { type: 'integer', minimum: 1, default: 30000 },
    },
    required: ['url'],
  },
  help: 'An HTTP endpoint.\n\n### Properties\n- **url**: the path.',
  allowsCycles: false,
  usableAsTool: false,
};

export const debugType: NodeTypeInfo = {
  type: 'debug',
  role: { kind: 'debug-output', activeProp: 'active' },
  pack: '@flowcrew/nodes-core',
  category: 'output',
  label: 'debug',
  color: '#87a980',
  inputs: 1,
  outputs: 0,
  props: { type: 'object', properties: { active: { type: 'boolean', default: true }, complete: { type: ['string', 'boolean'], default: 'payload' } } },
  help: 'Shows messages in the debug sidebar.',
  allowsCycles: false,
  usableAsTool: false,
};

export const switchType: NodeTypeInfo = {
  type: 'switch',
  pack: '@flowcrew/nodes-core',
  category: 'flow',
  label: 'switch',
  color: '#E2D96E',
  inputs: 1,
  outputs: { prop: 'rules' },
  props: {
    type: 'object',
    required: ['property', 'rules'],
    properties: {
      property: { type: 'string', default: 'payload', title: 'Property' },
      rules: {
        type: 'array',
        title: 'Rules',
        default: [{ t: 'eq', v: '', vt: 'str' }],
        items: { type: 'object', required: ['t'], properties: { t: { type: 'string', enum: ['eq', 'neq', 'gt', 'else'], title: 'Operator' }, v: { type: ['string', 'number', 'boolean', 'null'], title: 'Value' }, vt: { type: 'string' } } },
      },
    },
  },
  help: 'Routes messages.',
  allowsCycles: false,
  usableAsTool: false,
};

export const functionType: NodeTypeInfo = {
  type: 'function',
  pack: '@flowcrew/nodes-core',
  category: 'function',
  label: 'function',
  color: '#fdd0a2',
  inputs: 1,
  outputs: { prop: 'outputs' },
  props: {
    type: 'object',
    properties: {
      func: { type: 'string', default: '\nreturn msg;', format: 'javascript' },
      outputs: { type: 'integer', minimum: 0, maximum: 100, default: 1 },
      timeoutMs: { type: 'integer', minimum: 1 },
    },
  },
  help: 'Runs JavaScript.',
  allowsCycles: false,
  usableAsTool: false,
};

export const httpRequestType: NodeTypeInfo = {
  type: 'http-request',
  pack: '@flowcrew/nodes-core',
  category: 'network',
  label: 'http request',
  inputs: 1,
  outputs: 1,
  props: { type: 'object', properties: { url: { type: 'string', default: '' } } },
  credentials: { type: 'http-auth', required: true, schema: { type: 'object', properties: { user: { type: 'string' }, password: { type: 'string', format: 'password' } } } },
  help: 'Sends an HTTP request.',
  allowsCycles: false,
  usableAsTool: false,
};

export const nodeTypes: NodeTypeInfo[] = [webhookType, debugType, switchType, functionType, httpRequestType];

export function flowView(overrides: Partial<FlowView> = {}): FlowView {
  return {
    format: 'flowcrew/flow@1',
    id: 'orders',
    name: 'Orders',
    version: 3,
    deployed: false,
    deployedVersion: null,
    updatedAt: 1,
    projectId: 'default',
    nodes: [
      { id: 'in', type: 'webhook', name: 'POST /orders', position: { x: 100, y: 100 }, props: { method: 'POST', url: '/orders' }, wires: [['show']] },
      { id: 'show', type: 'debug', name: 'Show', position: { x: 400, y: 100 }, props: { active: true }, wires: [] },
    ],
    ...overrides,
  };
}
