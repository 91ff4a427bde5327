/**
 * Request body guard: parsed JSON (or form) bodies nested deeper than the configured limit are refused with a 400
 * naming where, before any route handler, schema validator or run sees them. Such bodies would otherwise overflow
 * the stack in the first recursive consumer (ajv, structuredClone, JSON.stringify) and answer 500.
 *
 * The body's size is bounded by the body parsers' `limit` (FLOWCREW_BODY_LIMIT, 413), so this walk is bounded too.
 * Mount it right after the body parsers: `router.use(bodyDepthGuard(runtime.config.maxDepth))`.
 */
import type { RequestHandler } from 'express';
import { ProblemError } from '../errors.ts';
import { findTooDeep } from '../flow/json-depth.ts';

/** The ProblemError for a body nested deeper than `maxDepth`, or null when it is within the limit. */
export function checkBodyDepth(body: unknown, maxDepth: number): ProblemError | null {
  const tooDeep = findTooDeep(body, maxDepth);
  if (!tooDeep) return null;
  return new ProblemError(400, 'Too deeply nested', `the request body is nested more than ${maxDepth} levels deep at ${tooDeep.pointer}`, [tooDeep], { maxDepth });
}

/** Express middleware: refuses (400, problem+json with a JSON pointer) a parsed body nested deeper than `maxDepth`. */
export function bodyDepthGuard(maxDepth: number): RequestHandler {
  return (req, _res, next) => {
    next(checkBodyDepth(req.body, maxDepth) ?? undefined);
  };
}
