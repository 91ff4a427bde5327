/** The flow test routes (runtime/src/flowtest/routes.ts) and the shapes they answer. */
import { request } from '../../api/client';

export interface AssertionResult {
  label: string;
  node?: string;
  passed: boolean;
  message?: string;
}

export interface NodeMark {
  ran: number;
  failed: number;
  mocked: boolean;
  assertions?: 'passed' | 'failed';
}

export interface CaseResult {
  name: string;
  passed: boolean;
  durationMs: number;
  runStatus: string | null;
  error?: string;
  assertions: AssertionResult[];
  nodes: Record<string, NodeMark>;
}

export interface SuiteResult {
  name: string;
  flowId: string;
  flowVersion: number;
  passed: boolean;
  durationMs: number;
  cases: CaseResult[];
}

export interface StoredSuite {
  flowId: string;
  suite: { cases: unknown[]; [key: string]: unknown };
  updatedAt: number;
  updatedBy: string | null;
}

const path = (flowId: string) => `/flows/${encodeURIComponent(flowId)}/tests`;

export const flowTestApi = {
  get: (flowId: string) => request<StoredSuite>('GET', path(flowId)),
  save: (flowId: string, suite: unknown) => request<StoredSuite>('PUT', path(flowId), suite),
  run: (flowId: string, body: { suite?: unknown; case?: string } = {}) => request<SuiteResult>('POST', `${path(flowId)}/run`, body),
};
