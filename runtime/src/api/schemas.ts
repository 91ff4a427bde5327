/**
 * The JSON Schemas of what the API exchanges (OpenAPI components). Flow schemas are the very ones the runtime
 * validates flows with; the router validates request bodies and query parameters against these.
 */
import { flowSchema } from '../flow/schema.ts';
import { PERMISSIONS, PROJECT_ROLES } from '../identity/actor.ts';
import { ref, type JsonSchema } from './route-table.ts';

export const RUN_STATUSES = ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] as const;

const nullable = (type: string): JsonSchema => ({ type: [type, 'null'] });
const int = { type: 'integer' };
const str = { type: 'string' };

/** The flow schema embeds sub-schemas with their own $id; copied into several components they would clash. */
function withoutIds<T>(schema: T): T {
  if (Array.isArray(schema)) return schema.map(withoutIds) as T;
  if (!schema || typeof schema !== 'object') return schema;
  return Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$id' && k !== '$schema').map(([k, v]) => [k, withoutIds(v)])) as T;
}

const flow = withoutIds(flowSchema);

const acceptedRun = { type: 'object', required: ['runId', 'status'], properties: { runId: str, status: { const: 'accepted' } } };

export const componentSchemas: Record<string, JsonSchema> = {
  Flow: flow,
  // A stored flow as the API returns it: the flow plus read-only fields (accepted back on PUT and ignored).
  FlowView: {
    ...flow,
    required: [...flow.required, 'version', 'deployed', 'deployedVersion', 'updatedAt', 'projectId'],
    properties: { ...flow.properties, deployed: { type: 'boolean' }, deployedVersion: nullable('integer'), updatedAt: int, projectId: str },
  },
  // What POST /flows takes: a flow, and optionally the project to create it in.
  // Without an id the runtime generates one (as Node-RED's and n8n's APIs do).
  FlowCreate: {
    ...flow,
    required: flow.required.filter((key: string) => key !== 'id'),
    properties: { ...flow.properties, projectId: { type: 'string', minLength: 1, description: 'Project to create it in (default "default")' } },
  },
  Issue: { type: 'object', required: ['pointer', 'message'], properties: { pointer: str, message: str, nodeId: str } },
  ValidationResult: {
    type: 'object',
    required: ['valid', 'issues'],
    properties: { valid: { type: 'boolean' }, issues: { type: 'array', items: ref('Issue') }, warnings: { type: 'array', items: ref('Issue'), description: 'Reported by node types without making the flow invalid' } },
  },
  Problem: {
    type: 'object',
    required: ['title', 'status'],
    properties: { type: str, title: str, status: int, detail: str, errors: { type: 'array', items: ref('Issue') } },
  },
  NodeType: {
    type: 'object',
    required: ['type', 'category', 'label', 'inputs', 'outputs', 'props', 'help'],
    properties: {
      type: str,
      pack: str,
      category: str,
      label: str,
      icon: str,
      color: str,
      inputs: int,
      outputs: { oneOf: [int, { type: 'object', properties: { prop: str, extra: int, min: int } }] },
      props: { type: 'object', description: 'JSON Schema of the node props' },
      credentials: { type: 'object' },
      help: { type: 'string', description: 'Markdown' },
      allowsCycles: { type: 'boolean' },
      usableAsTool: { type: 'boolean' },
      role: { type: 'object', required: ['kind'], properties: { kind: str }, description: 'What the runtime does with the node beyond its wires (error-handler, status-handler, completion-handler, manual-entry, subflow-entry, http-entry)' },
    },
  },
  Run: {
    type: 'object',
    required: ['id', 'flowId', 'status', 'createdAt'],
    properties: {
      id: str,
      flowId: str,
      flowVersion: int,
      projectId: str,
      status: { enum: [...RUN_STATUSES] },
      triggerNodeId: nullable('string'),
      input: {},
      error: nullable('string'),
      parentRunId: nullable('string'),
      createdAt: int,
      startedAt: nullable('integer'),
      finishedAt: nullable('integer'),
      test: { type: 'boolean', description: 'A manual test run from the editor (working copy, pinned outputs); absent for real runs' },
    },
  },
  Invocation: {
    type: 'object',
    properties: {
      id: str,
      runId: str,
      nodeId: str,
      nodeType: str,
      status: { enum: ['pending', 'succeeded', 'failed', 'cancelled'] },
      attempt: int,
      input: {},
      outputs: { type: ['array', 'null'], items: { type: 'object', properties: { port: int, msg: {} } } },
      error: nullable('string'),
      parentId: nullable('string'),
      seq: int,
      createdAt: int,
      startedAt: nullable('integer'),
      finishedAt: nullable('integer'),
    },
  },
  AcceptedRun: acceptedRun,
  ImportResult: {
    type: 'object',
    properties: {
      source: { enum: ['flowcrew', 'node-red', 'n8n'] },
      flows: { type: 'array', items: { type: 'object', properties: { id: str, name: str, version: int, deployed: { type: 'boolean' } } } },
      unmapped: { type: 'array', items: { type: 'object', properties: { id: str, type: str, name: str, flowId: str, reason: str } } },
      warnings: { type: 'array', items: str },
      properties: {
        type: 'array',
        description: 'Node-RED imports: what happened to each property of each imported node that was not taken as it was',
        items: {
          type: 'object',
          required: ['nodeId', 'type', 'property', 'action', 'reason'],
          properties: {
            nodeId: str,
            type: str,
            flowId: str,
            property: { type: 'string', description: 'JSON pointer into the node\'s props' },
            action: { enum: ['translated', 'defaulted', 'dropped', 'ignored'] },
            from: {},
            to: {},
            reason: str,
          },
        },
      },
      subflows: {
        type: 'array',
        description: 'Node-RED imports: the subflow definitions put into the sub-flow library (published as a new version, or unchanged: the same as the latest)',
        items: { type: 'object', properties: { nodeRedId: str, id: str, type: str, name: str, version: int, status: { enum: ['published', 'unchanged'] } } },
      },
    },
  },
  Credential: {
    type: 'object',
    required: ['id', 'name', 'type', 'fields', 'projectId'],
    properties: {
      id: str,
      name: str,
      type: str,
      projectId: str,
      fields: { type: 'array', items: str, description: 'Field names only: values never leave the runtime' },
      createdAt: int,
      updatedAt: int,
      error: { type: 'string', description: 'Why this runtime cannot decrypt it' },
    },
  },
  DebugMessage: {
    type: 'object',
    required: ['seq', 'flowId', 'nodeId', 'value'],
    properties: {
      seq: int,
      runId: str,
      flowId: str,
      nodeId: str,
      property: str,
      at: int,
      value: { type: 'object', properties: { json: str, truncated: { type: 'boolean' } } },
    },
  },
  Permission: { enum: [...PERMISSIONS] },
  ProjectRole: { enum: [...PROJECT_ROLES] },
  User: {
    type: 'object',
    required: ['id', 'username', 'name', 'instanceRole', 'disabled', 'projects'],
    properties: {
      id: str,
      username: str,
      name: str,
      instanceRole: { enum: ['admin', 'member'] },
      disabled: { type: 'boolean' },
      projects: { type: 'object', additionalProperties: ref('ProjectRole'), description: 'Role per project id' },
      createdAt: int,
      updatedAt: int,
      lastLoginAt: nullable('integer'),
    },
  },
  Project: {
    type: 'object',
    required: ['id', 'name'],
    properties: { id: str, name: str, description: str, createdAt: int, updatedAt: int, role: { ...ref('ProjectRole'), description: 'Your role in it (absent for instance admins who are not members)' } },
  },
  Member: {
    type: 'object',
    required: ['projectId', 'userId', 'role'],
    properties: { projectId: str, userId: str, username: str, name: str, role: ref('ProjectRole'), addedAt: int },
  },
  Token: {
    type: 'object',
    required: ['id', 'name', 'prefix', 'projectId', 'permissions'],
    description: 'An API token: never its secret',
    properties: {
      id: str,
      name: str,
      prefix: { type: 'string', description: 'The first characters of the secret, to recognise it' },
      projectId: str,
      permissions: { type: 'array', items: ref('Permission') },
      createdBy: str,
      createdAt: int,
      expiresAt: nullable('integer'),
      revokedAt: nullable('integer'),
      lastUsedAt: nullable('integer'),
    },
  },
  CreatedToken: {
    type: 'object',
    required: ['token', 'secret'],
    properties: { token: ref('Token'), secret: { type: 'string', description: 'Shown this once: send it as Authorization: Bearer <secret>' } },
  },
  AuditEntry: {
    type: 'object',
    required: ['id', 'at', 'actor', 'action', 'outcome'],
    properties: {
      id: str,
      at: int,
      actor: { type: 'object', properties: { kind: str, id: str, name: str, via: str } },
      action: str,
      outcome: { enum: ['success', 'failure', 'denied'] },
      targetType: nullable('string'),
      targetId: nullable('string'),
      projectId: nullable('string'),
      ip: nullable('string'),
      detail: { type: ['object', 'null'] },
    },
  },
  AuthStatus: {
    type: 'object',
    required: ['setupRequired', 'user', 'oidc'],
    properties: {
      setupRequired: { type: 'boolean', description: 'No user exists yet: POST /auth/setup creates the first admin' },
      user: { oneOf: [{ type: 'null' }, ref('User')] },
      csrfToken: { type: 'string', description: 'Send it back in X-CSRF-Token on unsafe requests made with the session cookie' },
      oidc: {
        oneOf: [{ type: 'null' }, { type: 'object', required: ['issuer', 'clientId'], properties: { issuer: str, clientId: str, realm: str, url: str } }],
      },
    },
  },
  Stats: {
    type: 'object',
    properties: {
      from: int,
      to: int,
      buckets: { type: 'array', items: { type: 'object', properties: { at: int, runs: int, failed: int, p95Ms: nullable('number') } } },
      totals: { type: 'object', properties: { runs: int, failed: int, p95Ms: nullable('number') } },
      activeFlows: int,
      activeRuns: int,
    },
  },
  Health: {
    type: 'object',
    required: ['status'],
    properties: {
      status: { const: 'ok' },
      uptimeSeconds: int,
      storage: str,
      activeRuns: { type: 'integer', description: 'Signed-in callers only' },
      nodePacks: { type: 'array', items: { type: 'object' }, description: 'Instance admins only' },
      webhooks: { type: 'array', items: { type: 'object' }, description: 'Instance admins only' },
    },
  },
};
