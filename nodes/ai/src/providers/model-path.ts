/**
 * Where the local model lives when a node names none: $FLOWCREW_MODEL_PATH, else the first GGUF file in
 * $FLOWCREW_MODELS_DIR or <repo>/.models (what scripts/fetch-model fills). Nothing is ever downloaded here.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..', '..', '..');

export const SETUP_HINT = 'run scripts/fetch-model (npm start does it once) to fetch the SmolLM2 model, or set FLOWCREW_MODEL_PATH to a GGUF file';

export function modelsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.FLOWCREW_MODELS_DIR || path.join(REPO_ROOT, '.models'));
}

/** The default model file, or undefined when there is none. */
export function defaultModelPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.FLOWCREW_MODEL_PATH) return path.resolve(env.FLOWCREW_MODEL_PATH);
  const dir = modelsDir(env);
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.toLowerCase().endsWith('.gguf'));
  } catch {
    return undefined;
  }
  // Prefer the model the setup script ships, then any other, in a stable order.
  files.sort((a, b) => Number(/smollm2/i.test(b)) - Number(/smollm2/i.test(a)) || a.localeCompare(b));
  return files[0] ? path.join(dir, files[0]) : undefined;
}

/** Resolve an explicit path or the default; `problem` explains what is missing. */
export function resolveModelPath(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { path?: string; problem?: string } {
  if (explicit) {
    const resolved = path.resolve(explicit);
    if (!existsSync(resolved) || !statSync(resolved).isFile()) return { problem: `model file ${resolved} does not exist` };
    return { path: resolved };
  }
  const found = defaultModelPath(env);
  if (!found) return { problem: `no local model found in ${modelsDir(env)}: ${SETUP_HINT}` };
  if (!existsSync(found)) return { problem: `model file ${found} (FLOWCREW_MODEL_PATH) does not exist: correct or unset FLOWCREW_MODEL_PATH` };
  return { path: found };
}
