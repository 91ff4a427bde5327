/**
 * Test support: find the local model the same way the nodes do. Locally, tests that need it are skipped when it
 * is missing; with CI=true they fail with how to fix it, so CI never passes by silently skipping them.
 */
import { resolveModelPath, SETUP_HINT } from '../providers/model-path.ts';

export const localModelPath = resolveModelPath(undefined).path;
export const isCI = process.env.CI === 'true';
/** Use with describe.skipIf(skipLocalModelTests). */
export const skipLocalModelTests = !localModelPath && !isCI;

export function requireLocalModel(): string {
  if (!localModelPath) throw new Error(`CI=true but the local model is missing: ${SETUP_HINT}`);
  return localModelPath;
}
