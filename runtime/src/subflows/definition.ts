/**
 * A library sub-flow: defined once with typed input, output and properties (JSON Schemas) and an inner flow that
 * starts at a sub-flow entry node and answers with subflow-out; used as node type `subflow:<id>` in any flow, each
 * use pinning a version. Each published version runs as its own hidden flow `subflow:<id>:v<version>`.
 */
import type { FlowDocument, FlowIssue, FlowNode, FlowVariable } from '../flow/types.ts';
import { ajvIssues, validateFlowAsync } from '../flow/validate.ts';
import { createUserSchemaValidator, regexKeywordAt } from '../flowtest/user-schemas.ts';
import type { NodeRegistry } from '../registry/registry.ts';

type JsonSchema = Record<string, unknown>;

export interface SubflowDefinition {
  /** Library id: letters, digits, - _ . (the node type is `subflow:<id>`). */
  id: string;
  /** Set by the library when published: 1, 2, ... */
  version: number;
  name: string;
  description?: string;
  color?: string;
  icon?: string;
  /** JSON Schema of the message the sub-flow takes; a message that does not match fails the calling node. */
  input?: JsonSchema;
  /** JSON Schema of the message it answers with; checked before it leaves the node. */
  output?: JsonSchema;
  /** JSON Schema (an object) of each use's properties: the node's form; inside, they are `msg.subflow.props`. */
  properties?: JsonSchema;
  /** The inner flow: one sub-flow entry node (subflow-in) and a subflow-out that answers. */
  nodes: FlowNode[];
  /**
   * The sub-flow's own variables (a flow's `env`: text or Node-RED typed values), read by its nodes before the
   * project's; a Node-RED import writes the export's global variables (global-config) here, as every flow gets them.
   */
  env?: Record<string, FlowVariable>;
}

export const SUBFLOW_TYPE_PREFIX = 'subflow:';
export const nodeTypeOf = (id: string): string => `${SUBFLOW_TYPE_PREFIX}${id}`;
export const hiddenFlowId = (id: string, version: number): string => `${SUBFLOW_TYPE_PREFIX}${id}:v${version}`;
/** A flow the library deploys for a sub-flow version: never stored as a flow, so deploy sync must leave it alone. */
export const isHiddenSubflowFlow = (flowId: string): boolean => flowId.startsWith(SUBFLOW_TYPE_PREFIX);
export const subflowIdOfType = (type: string): string | undefined => (type.startsWith(SUBFLOW_TYPE_PREFIX) ? type.slice(SUBFLOW_TYPE_PREFIX.length) : undefined);

const ajv = createUserSchemaValidator();
const schemaOfSchema = { type: 'object' };
const checkShape = ajv.compile({
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'nodes'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' },
    version: { type: 'integer', minimum: 1 },
    name: { type: 'string', minLength: 1, maxLength: 200 },
    description: { type: 'string' },
    color: { type: 'string' },
    icon: { type: 'string' },
    input: schemaOfSchema,
    output: schemaOfSchema,
    properties: { type: 'object', properties: { type: { const: 'object' } } },
    nodes: { type: 'array', minItems: 1, items: { type: 'object' } },
    // Checked entry by entry as the hidden flow's env (the flow schema).
    env: { type: 'object' },
  },
});

/** The hidden flow a version runs as. */
export function hiddenFlow(definition: SubflowDefinition): FlowDocument {
  return { id: hiddenFlowId(definition.id, definition.version), name: `sub-flow ${definition.name} v${definition.version}`, version: definition.version, nodes: definition.nodes, ...(definition.env ? { env: definition.env } : {}) };
}

/**
 * Every problem of a definition, with pointers into it: its shape, its schemas (each must compile), and its inner
 * flow (validated like any flow, against the registry; it must have exactly one sub-flow entry).
 */
export async function definitionIssues(definition: unknown, registry: NodeRegistry): Promise<FlowIssue[]> {
  if (!checkShape(definition)) return ajvIssues(checkShape.errors);
  const d = definition as SubflowDefinition;
  const issues: FlowIssue[] = [];
  for (const key of ['input', 'output', 'properties'] as const) {
    if (!d[key]) continue;
    try {
      ajv.compile(d[key]!);
    } catch (error) {
      issues.push({ pointer: `/${key}`, message: `is not a valid JSON Schema: ${(error as Error).message}` });
    }
  }
  // The properties schema becomes a node type's props schema, checked by the registry's validator with JavaScript regexes.
  const regex = regexKeywordAt(d.properties);
  if (regex) issues.push({ pointer: `/properties${regex}`, message: 'regular expressions are not allowed in a properties schema (checked in the host): check the value inside the sub-flow instead' });
  const entries = d.nodes.filter((n) => n && typeof n.type === 'string' && registry.roleOf(n.type)?.kind === 'subflow-entry' && !n.disabled);
  if (entries.length !== 1) issues.push({ pointer: '/nodes', message: `needs exactly one sub-flow entry node (subflow-in), has ${entries.length}` });
  const own = d.nodes.find((n) => n && n.type === nodeTypeOf(d.id));
  if (own) issues.push({ pointer: `/nodes/${d.nodes.indexOf(own)}/type`, message: 'a sub-flow cannot use itself', nodeId: own.id });
  const { issues: flowIssues } = await validateFlowAsync(hiddenFlow({ ...d, version: d.version ?? 1 }), registry);
  issues.push(...flowIssues);
  return issues;
}
