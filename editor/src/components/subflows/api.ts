/** The sub-flow library routes (runtime/src/subflows/routes.ts). */
import { request } from '../../api/client';
import type { FlowDocument } from '../../api/types';

export interface SubflowNode {
  id: string;
  type: string;
  name?: string;
  props?: Record<string, unknown>;
  wires?: string[][];
  position?: { x: number; y: number };
}

export interface SubflowDefinition {
  id: string;
  version: number;
  name: string;
  description?: string;
  input?: Record<string, unknown>;
  output?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  /** The sub-flow's own variables (the runtime's SubflowDefinition.env). */
  env?: FlowDocument['env'];
  nodes: SubflowNode[];
}

export interface SubflowVersion {
  definition: SubflowDefinition;
  projectId: string;
  createdAt: number;
  createdBy: string | null;
}

/** One library entry as GET /subflows lists it: the runtime's own type. */
export type { SubflowSummary } from '../../../../runtime/src/subflows/service.ts';
import type { SubflowSummary } from '../../../../runtime/src/subflows/service.ts';

export const SUBFLOW_TYPE_PREFIX = 'subflow:';

export const subflowApi = {
  list: () => request<SubflowSummary[]>('GET', '/subflows'),
  latest: (id: string) => request<SubflowVersion>('GET', `/subflows/${encodeURIComponent(id)}`),
  version: (id: string, version: number) => request<SubflowVersion>('GET', `/subflows/${encodeURIComponent(id)}/versions/${version}`),
  /** Publish the next version of an existing sub-flow (its owning project decides who may). */
  publish: (definition: Omit<SubflowDefinition, 'version'>, projectId?: string) =>
    request<SubflowVersion>('POST', `/subflows${projectId ? `?project=${encodeURIComponent(projectId)}` : ''}`, definition),
};
