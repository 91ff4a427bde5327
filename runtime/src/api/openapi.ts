/** OpenAPI 3.1 description of /api/v1, built from the same JSON Schemas the runtime validates with. */
import { flowSchema } from '../flow/schema.ts';

const json = (schema: unknown) => ({ 'application/json': { schema } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: { type: 'string' } });

const runStatus = { enum: ['queued', 'running', 'waiting', 'succeeded', 'failed', 'cancelled'] };

type Operation = { requestBody?: unknown; responses: Record<string, unknown> };

/** Every operation that takes a body can answer 400 (malformed JSON) and 413 (too large): say so once, here. */
function withBodyErrors<T extends { paths: Record<string, Record<string, unknown>> }>(doc: T): T {
  for (const item of Object.values(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const operation = op as Operation;
      if (!operation.requestBody) continue;
      operation.responses['400'] ??= problem('Malformed JSON or bad parameter');
      operation.responses['413'] ??= problem('Body larger than the configured limit');
    }
  }
  return doc;
}

let cached: ReturnType<typeof buildDocument> | undefined;

export function openApiDocument() {
  cached ??= withBodyErrors(buildDocument());
  return cached;
}

function buildDocument() {
  const { $schema: _ignored, $id: _id, ...flow } = flowSchema;
  return {
    openapi: '3.1.0',
    info: { title: 'Flowcrew runtime API', version: '1.0.0', description: 'Flows, deployments, runs and node types of a Flowcrew runtime. Errors are application/problem+json with JSON pointers.' },
    servers: [{ url: '/api/v1' }],
    components: {
      schemas: {
        Flow: flow,
        // A stored flow as the API returns it: the flow plus read-only deployment fields (accepted back on PUT).
        FlowView: {
          ...flow,
          required: [...flow.required, 'version', 'deployed', 'deployedVersion', 'updatedAt'],
          properties: { ...flow.properties, deployed: { type: 'boolean' }, deployedVersion: { type: ['integer', 'null'] }, updatedAt: { type: 'integer' } },
        },
        Issue: { type: 'object', required: ['pointer', 'message'], properties: { pointer: { type: 'string' }, message: { type: 'string' }, nodeId: { type: 'string' } } },
        Problem: {
          type: 'object',
          required: ['title', 'status'],
          properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, errors: { type: 'array', items: ref('Issue') } },
        },
        NodeType: {
          type: 'object',
          required: ['type', 'category', 'label', 'inputs', 'outputs', 'props', 'help'],
          properties: {
            type: { type: 'string' },
            pack: { type: 'string' },
            category: { type: 'string' },
            label: { type: 'string' },
            icon: { type: 'string' },
            color: { type: 'string' },
            inputs: { type: 'integer' },
            outputs: { oneOf: [{ type: 'integer' }, { type: 'object', properties: { prop: { type: 'string' }, extra: { type: 'integer' }, min: { type: 'integer' } } }] },
            props: { type: 'object', description: 'JSON Schema of the node props' },
            credentials: { type: 'object' },
            help: { type: 'string', description: 'Markdown' },
            allowsCycles: { type: 'boolean' },
            usableAsTool: { type: 'boolean' },
          },
        },
        Run: {
          type: 'object',
          required: ['id', 'flowId', 'status', 'createdAt'],
          properties: {
            id: { type: 'string' },
            flowId: { type: 'string' },
            flowVersion: { type: 'integer' },
            status: runStatus,
            triggerNodeId: { type: ['string', 'null'] },
            input: {},
            error: { type: ['string', 'null'] },
            parentRunId: { type: ['string', 'null'] },
            createdAt: { type: 'integer' },
            startedAt: { type: ['integer', 'null'] },
            finishedAt: { type: ['integer', 'null'] },
          },
        },
        Invocation: {
          type: 'object',
          properties: {
            id: { type: 'string' },
            runId: { type: 'string' },
            nodeId: { type: 'string' },
            nodeType: { type: 'string' },
            status: { enum: ['pending', 'succeeded', 'failed', 'cancelled'] },
            attempt: { type: 'integer' },
            input: {},
            outputs: { type: ['array', 'null'], items: { type: 'object', properties: { port: { type: 'integer' }, msg: {} } } },
            error: { type: ['string', 'null'] },
            parentId: { type: ['string', 'null'] },
            seq: { type: 'integer' },
            createdAt: { type: 'integer' },
            startedAt: { type: ['integer', 'null'] },
            finishedAt: { type: ['integer', 'null'] },
          },
        },
        ImportResult: {
          type: 'object',
          properties: {
            source: { enum: ['flowcrew', 'node-red'] },
            flows: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, version: { type: 'integer' }, deployed: { type: 'boolean' } } } },
            unmapped: { type: 'array', items: { type: 'object', properties: { id: { type: 'string' }, type: { type: 'string' }, name: { type: 'string' }, flowId: { type: 'string' }, reason: { type: 'string' } } } },
            warnings: { type: 'array', items: { type: 'string' } },
          },
        },
        Credential: {
          type: 'object',
          properties: { id: { type: 'string' }, name: { type: 'string' }, type: { type: 'string' }, fields: { type: 'array', items: { type: 'string' } }, createdAt: { type: 'integer' }, updatedAt: { type: 'integer' } },
        },
      },
    },
    paths: {
      '/health': { get: { summary: 'Liveness and basic state', responses: { '200': { description: 'Healthy', content: json({ type: 'object', properties: { status: { const: 'ok' } } }) } } } },
      '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: json({ type: 'object' }) } } } },
      '/node-types': { get: { summary: 'Installed node types with their props JSON Schemas', responses: { '200': { description: 'Node types', content: json({ type: 'array', items: ref('NodeType') }) } } } },
      '/node-packs': { get: { summary: 'Loaded node packs, with load errors', responses: { '200': { description: 'Node packs', content: json({ type: 'array', items: { type: 'object' } }) } } } },
      '/flows': {
        get: { summary: 'List flows', responses: { '200': { description: 'Flows', content: json({ type: 'array', items: ref('FlowView') }) } } },
        post: {
          summary: 'Create a flow',
          requestBody: { required: true, content: json(ref('Flow')) },
          responses: { '201': { description: 'Created', content: json(ref('FlowView')) }, '400': problem('Malformed JSON'), '409': problem('A flow with this id exists'), '413': problem('Body too large'), '422': problem('Invalid flow') },
        },
      },
      '/flows/validate': {
        post: {
          summary: 'Validate a flow without storing it',
          requestBody: { required: true, content: json(ref('Flow')) },
          responses: {
            '200': { description: 'Valid', content: json({ type: 'object', properties: { valid: { type: 'boolean' }, issues: { type: 'array', items: ref('Issue') } } }) },
            '400': problem('Malformed JSON'),
            '422': { description: 'Invalid', content: json({ type: 'object', properties: { valid: { type: 'boolean' }, issues: { type: 'array', items: ref('Issue') } } }) },
          },
        },
      },
      '/flows/import': {
        post: {
          summary: 'Import Flowcrew JSON or a Node-RED export (detected); all or nothing',
          parameters: [
            { name: 'deploy', in: 'query', schema: { type: 'boolean' } },
            { name: 'replace', in: 'query', schema: { type: 'boolean' } },
          ],
          requestBody: {
            required: true,
            content: json({
              oneOf: [
                { type: 'object', required: ['nodes'], description: 'One Flowcrew flow' },
                { type: 'array', items: { type: 'object' }, description: 'Several Flowcrew flows, or a Node-RED export (nodes with "type" and "z")' },
                { type: 'object', required: ['flows'], description: 'Node-RED admin API form' },
              ],
            }),
          },
          responses: { '201': { description: 'Imported', content: json(ref('ImportResult')) }, '400': problem('Unrecognised or malformed'), '409': problem('A flow exists'), '422': problem('Invalid flows') },
        },
      },
      '/flows/{id}': {
        parameters: [idParam('id', 'Flow id')],
        get: { summary: 'Get a flow', responses: { '200': { description: 'Flow', content: json(ref('FlowView')) }, '404': problem('No such flow') } },
        put: {
          summary: 'Save a new revision (If-Match or body version for optimistic locking)',
          parameters: [{ name: 'If-Match', in: 'header', description: 'The version you edited, e.g. "3"', schema: { type: 'string', pattern: '^(W/)?"?[0-9]+"?$' } }],
          requestBody: { required: true, content: json(ref('Flow')) },
          responses: { '200': { description: 'Saved', content: json(ref('FlowView')) }, '400': problem('Malformed'), '404': problem('No such flow'), '409': problem('Version conflict'), '422': problem('Invalid flow') },
        },
        delete: { summary: 'Undeploy and delete a flow', responses: { '204': { description: 'Deleted' }, '404': problem('No such flow') } },
      },
      '/flows/{id}/deploy': {
        parameters: [idParam('id', 'Flow id')],
        post: { summary: 'Deploy the stored revision', responses: { '200': { description: 'Deployed', content: json(ref('FlowView')) }, '404': problem('No such flow'), '422': problem('Cannot deploy') } },
      },
      '/flows/{id}/undeploy': {
        parameters: [idParam('id', 'Flow id')],
        post: { summary: 'Stop a deployed flow', responses: { '200': { description: 'Undeployed', content: json(ref('FlowView')) }, '404': problem('No such flow') } },
      },
      '/flows/{id}/export': {
        parameters: [idParam('id', 'Flow id')],
        get: { summary: 'Export a flow as Flowcrew JSON', responses: { '200': { description: 'Flow', content: json(ref('Flow')) }, '404': problem('No such flow') } },
      },
      '/flows/{id}/debug': {
        parameters: [idParam('id', 'Flow id')],
        get: {
          summary: 'Recent debug messages of a flow (in memory, newest 500), for a client catching up after a lost connection',
          parameters: [{ name: 'after', in: 'query', description: 'Only messages with a greater seq', schema: { type: 'integer', minimum: 0 } }],
          responses: {
            '200': {
              description: 'Debug messages, oldest first (the shape of the live "debug" event)',
              content: json({
                type: 'array',
                items: {
                  type: 'object',
                  required: ['seq', 'flowId', 'nodeId', 'value'],
                  properties: {
                    seq: { type: 'integer' },
                    runId: { type: 'string' },
                    flowId: { type: 'string' },
                    nodeId: { type: 'string' },
                    property: { type: 'string' },
                    at: { type: 'integer' },
                    value: { type: 'object', properties: { json: { type: 'string' }, truncated: { type: 'boolean' } } },
                  },
                },
              }),
            },
            '400': problem('Bad parameter'),
            '404': problem('No such flow'),
          },
        },
      },
      '/flows/{id}/runs': {
        parameters: [idParam('id', 'Flow id')],
        post: {
          summary: 'Start a run manually (at the flow\'s inject node, or nodeId)',
          requestBody: { content: json({ type: 'object', additionalProperties: false, properties: { input: { type: 'object' }, nodeId: { type: 'string' } } }) },
          responses: {
            '202': { description: 'Accepted (durably stored)', content: json({ type: 'object', properties: { runId: { type: 'string' }, status: { const: 'accepted' } } }) },
            '400': problem('Bad input'),
            '404': problem('No such flow'),
            '409': problem('Flow not deployed'),
            '413': problem('Body too large'),
            '422': problem('No entry node'),
          },
        },
      },
      '/runs': {
        get: {
          summary: 'List runs, newest first',
          parameters: [
            { name: 'flowId', in: 'query', schema: { type: 'string' } },
            { name: 'status', in: 'query', schema: runStatus },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 500 } },
            { name: 'before', in: 'query', description: 'Run id: return older runs (pagination)', schema: { type: 'string' } },
          ],
          responses: { '200': { description: 'Runs', content: json({ type: 'array', items: ref('Run') }) }, '400': problem('Bad parameter') },
        },
      },
      '/runs/{id}': {
        parameters: [idParam('id', 'Run id')],
        get: {
          summary: 'One run with its node invocations',
          responses: { '200': { description: 'Run', content: json({ allOf: [ref('Run'), { type: 'object', properties: { invocations: { type: 'array', items: ref('Invocation') } } }] }) }, '404': problem('No such run') },
        },
      },
      '/runs/{id}/rerun': {
        parameters: [idParam('id', 'Run id')],
        post: {
          summary: "Start a new run with this run's original input, entering where it entered (trigger onInput or trigger output)",
          responses: {
            '202': { description: 'Accepted (durably stored)', content: json({ type: 'object', properties: { runId: { type: 'string' }, status: { const: 'accepted' } } }) },
            '404': problem('No such run'),
            '409': problem('Flow not deployed'),
            '422': problem('The trigger is gone'),
          },
        },
      },
      '/runs/{id}/cancel': {
        parameters: [idParam('id', 'Run id')],
        post: { summary: 'Cancel a queued or running run', responses: { '200': { description: 'Cancelled', content: json(ref('Run')) }, '404': problem('No such run'), '409': problem('Run already finished') } },
      },
      '/stats': {
        get: {
          summary: 'Dashboard figures per minute: runs, failures, p95 run duration; active flows',
          parameters: [{ name: 'minutes', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1440, default: 60 } }],
          responses: {
            '200': {
              description: 'Stats',
              content: json({
                type: 'object',
                properties: {
                  from: { type: 'integer' },
                  to: { type: 'integer' },
                  buckets: { type: 'array', items: { type: 'object', properties: { at: { type: 'integer' }, runs: { type: 'integer' }, failed: { type: 'integer' }, p95Ms: { type: ['number', 'null'] } } } },
                  totals: { type: 'object', properties: { runs: { type: 'integer' }, failed: { type: 'integer' }, p95Ms: { type: ['number', 'null'] } } },
                  activeFlows: { type: 'integer' },
                  activeRuns: { type: 'integer' },
                },
              }),
            },
            '400': problem('Bad parameter'),
          },
        },
      },
      '/credentials': {
        get: { summary: 'List credentials (names and field names only; values never leave the runtime)', responses: { '200': { description: 'Credentials', content: json({ type: 'array', items: ref('Credential') }) } } },
        post: {
          summary: 'Store a credential (encrypted at rest)',
          requestBody: { required: true, content: json({ type: 'object', required: ['name', 'type', 'fields'], properties: { name: { type: 'string', minLength: 1 }, type: { type: 'string', minLength: 1 }, fields: { type: 'object' } } }) },
          responses: { '201': { description: 'Stored', content: json(ref('Credential')) }, '400': problem('Malformed JSON'), '413': problem('Body too large'), '422': problem('Invalid') },
        },
      },
      '/credentials/{id}': {
        parameters: [idParam('id', 'Credential id')],
        delete: { summary: 'Delete a credential', responses: { '204': { description: 'Deleted' }, '404': problem('No such credential') } },
      },
    },
  };
}
