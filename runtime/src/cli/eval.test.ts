/**
 * `flowcrew eval` as a user runs it: the real CLI process, a YAML dataset, a flow file imported into a data directory,
 * scores printed and kept per flow version, the exit code gating on --min-score.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileChecks, parseDataset } from './eval-dataset.ts';
import { runEvaluation } from './eval.ts';
import { EvalStore } from './eval-store.ts';
import { openStorage } from '../storage/index.ts';

const exec = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '..', '..', '..');
let dir: string;

async function flowcrew(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'runtime/src/cli/main.ts', ...args], { cwd: repoRoot, env: { ...process.env, DATABASE_URL: '', FLOWCREW_LOG_LEVEL: 'error' } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const flow = (func: string) => ({
  id: 'scorer',
  name: 'scorer',
  version: 0,
  nodes: [
    { id: 'go', type: 'inject', props: { props: [] }, wires: [['score']] },
    { id: 'score', type: 'function', props: { func }, wires: [] },
  ],
});

const DATASET = `
flowFile: scorer.json
cases:
  - name: doubles small numbers
    input: { payload: { n: 2 } }
    checks:
      - name: score is 4
        jsonata: output.payload.score = 4
      - path: output.payload
        schema: { type: object, required: [score], properties: { score: { type: integer } } }
  - name: rejects text
    input: { payload: { n: "x" } }
    status: failed
    checks:
      - jsonata: "$contains(error, 'not a number')"
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'flowcrew-eval-'));
  await writeFile(path.join(dir, 'dataset.yaml'), DATASET);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('flowcrew eval', () => {
  it('scores each case, keeps the score per flow version, shows earlier versions, and fails below --min-score', async () => {
    const good = "if (typeof msg.payload.n !== 'number') throw new Error('n is not a number'); msg.payload = { score: msg.payload.n * 2 }; return msg;";
    await writeFile(path.join(dir, 'scorer.json'), JSON.stringify(flow(good)));
    const data = path.join(dir, 'data');
    // In process (what the command runs), then through the real CLI for its output and exit code.
    const lines: string[] = [];
    const first = await runEvaluation(path.join(dir, 'dataset.yaml'), data, (line) => lines.push(line));
    expect(first.score).toBe(1);
    expect(lines).toEqual(['pass  doubles small numbers  100%', 'pass  rejects text  100%', 'flow scorer v1: 100.0% over 2 case(s) of dataset.yaml']);

    // A worse version of the flow: a new flow version, scored and compared with the first.
    await writeFile(path.join(dir, 'scorer.json'), JSON.stringify(flow("msg.payload = { score: String(msg.payload.n) }; return msg;")));
    const second = await flowcrew('eval', path.join(dir, 'dataset.yaml'), '-d', data, '--min-score', '0.9', '-o', path.join(dir, 'out.json'), '--junit', path.join(dir, 'junit.xml'));
    expect(second.code).toBe(1);
    expect(second.stdout).toContain('FAIL  doubles small numbers  33%');
    expect(second.stdout).toContain('✗ score is 4: got false');
    expect(second.stdout).toMatch(/✗ schema of output\.payload: \/score must be integer/);
    expect(second.stdout).toContain('✗ status is failed: run succeeded');
    expect(second.stdout).toMatch(/flow scorer v2: 16\.7% over 2 case\(s\) of dataset\.yaml\n {2}earlier: v1 100\.0%/);
    // Kept in the database, per flow version.
    const storage = await openStorage({ dataDir: data });
    const history = await EvalStore.of(storage).history('scorer').finally(() => storage.close());
    expect(history.map((h) => [h.flowVersion, h.score])).toEqual([
      [1, 1],
      [2, 0.167],
    ]);
    expect(JSON.parse(await readFile(path.join(dir, 'out.json'), 'utf8')).cases[0].runId).toEqual(expect.any(String));
    // The JUnit report for CI (evals/junit.ts): both cases failed a check.
    expect(await readFile(path.join(dir, 'junit.xml'), 'utf8')).toMatch(/<testsuite name="dataset\.yaml \(scorer v2\)" tests="2" failures="2"/);
  }, 150_000);

  it('refuses a dataset with a broken check before running anything, naming the case', () => {
    const dataset = parseDataset('flow: x\ncases:\n  - name: one\n    checks:\n      - jsonata: "output.("\n', 'd.yaml');
    expect(() => compileChecks(dataset)).toThrow(/^case "one" check 1 \(output\.\(\): Invalid JSONata expression/);
    expect(() => parseDataset('cases: []', 'd.yaml')).toThrow('d.yaml: say which flow to evaluate');
    expect(() => parseDataset('flow: x\ncases:\n  - name: a\n    checks: [{}]', 'd.yaml')).toThrow('d.yaml: cases[0] ("a").checks[0] needs a jsonata expression or a schema');
  });
});
