/** The flow test routes (runtime/src/flowtest/routes.ts) and the shapes they answer. */
import { request } from '../../api/client';

// The result shapes are the runtime's own (type-only imports, as api/types.ts does): one definition, no drift.
export type { AssertionResult } from '../../../../runtime/src/flowtest/assertions.ts';
export type { CaseResult, NodeMark, SuiteResult } from '../../../../runtime/src/flowtest/runner.ts';
import type { SuiteResult } from '../../../../runtime/src/flowtest/runner.ts';

export interface StoredSuite {
  flowId: string;
  suite: { cases: unknown[]; [key: string]: unknown };
  /** The text the suite was saved as (YAML or JSON), when it was saved as text. */
  source?: string;
  updatedAt: number;
  updatedBy: string | null;
}

const path = (flowId: string) => `/flows/${encodeURIComponent(flowId)}/tests`;

export const flowTestApi = {
  get: (flowId: string) => request<StoredSuite>('GET', path(flowId)),
  /** `suite` as data, or `{ source }`: the suite's text, parsed by the runtime (YAML or JSON). */
  save: (flowId: string, suite: unknown) => request<StoredSuite>('PUT', path(flowId), suite),
  run: (flowId: string, body: { suite?: unknown; source?: string; case?: string } = {}) => request<SuiteResult>('POST', `${path(flowId)}/run`, body),
};
