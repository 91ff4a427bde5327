/** JSON Schema (draft 2020-12) of flow format v1. The API's OpenAPI document reuses it. */
import { FLOW_FORMAT } from './types.ts';

const identifier = { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' } as const;

export const retryPolicySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['maxAttempts'],
  properties: {
    maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
    backoffMs: { type: 'integer', minimum: 0, maximum: 3_600_000, default: 1000 },
    maxBackoffMs: { type: 'integer', minimum: 0, maximum: 86_400_000 },
  },
} as const;

export const flowNodeSchema = {
  $id: 'https://flowcrew.dev/schemas/flow-node.json',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'type'],
  properties: {
    id: identifier,
    type: { type: 'string', minLength: 1, maxLength: 128 },
    name: { type: 'string', maxLength: 200 },
    position: {
      type: 'object',
      additionalProperties: false,
      required: ['x', 'y'],
      properties: { x: { type: 'number' }, y: { type: 'number' } },
    },
    props: { type: 'object' },
    credentials: identifier,
    wires: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
    retry: retryPolicySchema,
    timeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
    disabled: { type: 'boolean' },
  },
} as const;

export const flowSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://flowcrew.dev/schemas/flow.json',
  title: 'Flowcrew flow (format v1)',
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'nodes'],
  properties: {
    format: { const: FLOW_FORMAT },
    id: identifier,
    name: { type: 'string', minLength: 1, maxLength: 200 },
    version: { type: 'integer', minimum: 0 },
    description: { type: 'string', maxLength: 10_000 },
    settings: {
      type: 'object',
      additionalProperties: false,
      properties: {
        concurrency: { type: 'integer', minimum: 0, maximum: 10_000 },
        nodeTimeoutMs: { type: 'integer', minimum: 1, maximum: 86_400_000 },
        retention: { enum: ['all', 'failed', 'none'] },
        maxSteps: { type: 'integer', minimum: 0, maximum: 100_000_000 },
      },
    },
    nodes: { type: 'array', maxItems: 10_000, items: flowNodeSchema },
    // Editor groups (Node-RED's): named, coloured sets of nodes moved together; they change nothing at run time.
    groups: {
      type: 'array',
      maxItems: 1_000,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'name', 'nodes'],
        properties: {
          id: identifier,
          name: { type: 'string', maxLength: 200 },
          color: { type: 'string', pattern: '^#[0-9a-fA-F]{6}$' },
          nodes: { type: 'array', maxItems: 10_000, items: { type: 'string' } },
          parent: identifier,
        },
      },
    },
    // The flow's own environment variables (Node-RED's tab env), read before the project's (variables/resolver.ts).
    env: {
      type: 'object',
      maxProperties: 1_000,
      propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
      additionalProperties: {
        oneOf: [
          { type: 'string', maxLength: 65_536 },
          {
            // A Node-RED typed value, evaluated at deploy (variables/flow-env.ts).
            type: 'object',
            required: ['type', 'value'],
            additionalProperties: false,
            properties: { type: { enum: ['str', 'num', 'bool', 'json', 'bin', 're', 'date', 'jsonata', 'env'] }, value: { type: 'string', maxLength: 65_536 } },
          },
        ],
      },
    },
  },
} as const;
