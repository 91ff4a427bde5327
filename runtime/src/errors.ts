/** Errors the runtime facade raises; the API turns them into application/problem+json. */
import type { FlowIssue } from './flow/types.ts';

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly issues: FlowIssue[] = [],
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
  }
}

export const notFound = (what: string) => new ProblemError(404, 'Not Found', `${what} does not exist`);
export const invalid = (detail: string, issues: FlowIssue[]) => new ProblemError(422, 'Invalid flow', detail, issues);
