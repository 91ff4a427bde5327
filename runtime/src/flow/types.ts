/** Flow format v1: the JSON users save, import, export and deploy. The JSON Schema lives in ./schema.ts. */
import type { RetryPolicy } from '@flowcrew/sdk';
import type { PropertyNote } from './node-red-values.ts';

export const FLOW_FORMAT = 'flowcrew/flow@1';

export interface FlowNode {
  id: string;
  type: string;
  name?: string;
  position?: { x: number; y: number };
  props?: Record<string, unknown>;
  /** Id of a stored credential. */
  credentials?: string;
  /** One array of target node ids per output port, as in Node-RED. */
  wires?: string[][];
  /** Per-node overrides of the node type's retry/timeout defaults. */
  retry?: RetryPolicy;
  timeoutMs?: number;
  /** Skip the node (messages pass through unchanged). */
  disabled?: boolean;
}

export interface FlowSettings {
  /** Max runs of this flow executing at once; further runs wait as 'queued'. 0 = unlimited. */
  concurrency?: number;
  /** Default per-node timeout, ms. */
  nodeTimeoutMs?: number;
  /** Run history retention for this flow (overrides the runtime default). */
  retention?: 'all' | 'failed' | 'none';
  /** Node invocations one run may make before it fails (a loop that never ends); 0 = no limit. Default 100,000. */
  maxSteps?: number;
}

export interface FlowDocument {
  /** Always FLOW_FORMAT; tells a Flowcrew export from foreign JSON on import. */
  format?: typeof FLOW_FORMAT;
  id: string;
  name: string;
  /** Revision, incremented by the runtime on each save. */
  version: number;
  description?: string;
  settings?: FlowSettings;
  nodes: FlowNode[];
  /** Editor groups: named, coloured sets of nodes (by id) that move together; no effect at run time. */
  groups?: FlowGroup[];
  /** This flow's own environment variables (Node-RED's tab `env`): read before its project's variables. */
  env?: Record<string, FlowVariable>;
}

export interface FlowGroup {
  id: string;
  name: string;
  /** '#rrggbb'. */
  color?: string;
  nodes: string[];
  /** The enclosing group's id, for a group nested in another (Node-RED's nested groups). */
  parent?: string;
}

/** One validation problem, located by a JSON pointer into the submitted document. */
export interface FlowIssue {
  pointer: string;
  message: string;
  /** Node id when the problem is about one node, for the editor to highlight it. */
  nodeId?: string;
}

/** A stored flow as the API returns it: the document plus read-only deployment fields. */
export interface FlowView extends FlowDocument {
  deployed: boolean;
  deployedVersion: number | null;
  updatedAt: number;
  /** The project the flow belongs to. */
  projectId: string;
}

export interface ImportResult {
  source: 'flowcrew' | 'node-red' | 'n8n';
  flows: Array<{ id: string; name: string; version: number; deployed: boolean }>;
  unmapped: Array<{ id: string; type: string; name?: string; flowId?: string; reason: string }>;
  warnings: string[];
  /** Node-RED imports: property by property, what was translated, defaulted, dropped or kept without being applied. */
  properties?: PropertyNote[];
  /** Node-RED imports: the subflow definitions put into the sub-flow library (published, or the same as the latest). */
  subflows?: Array<{ nodeRedId: string; id: string; type: string; name: string; version: number; status: 'published' | 'unchanged' }>;
}

/**
 * A flow's own variable: text, or a Node-RED typed value (its tab env entry) evaluated at each deploy as Node-RED
 * evaluates it at flow start (variables/flow-env.ts): num, bool, json, bin, re, date, jsonata, or env (another variable).
 */
export type FlowVariable = string | { type: FlowVariableType; value: string };
export type FlowVariableType = 'str' | 'num' | 'bool' | 'json' | 'bin' | 're' | 'date' | 'jsonata' | 'env';
