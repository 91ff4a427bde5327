/**
 * An import is one transaction: kill -9 the runtime while it imports 300 flows and, after a restart, either all 300
 * are stored or none is (before: 87 of 300). Proven with a real runtime process on SQLite.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildRuntime, freePort } from '../testing/child-runtime.ts';

/** 300 flows of 12 nodes each (~0.6 MB, under the 1 MB body limit): enough that the import takes a while. */
function flows(batch: number) {
  return Array.from({ length: 300 }, (_, i) => ({
    id: `b${batch}-f${i}`,
    name: `batch ${batch} flow ${i}`,
    nodes: [
      { id: 'go', type: 'inject', wires: [['c0']] },
      ...Array.from({ length: 11 }, (_, n) => ({
        id: `c${n}`,
        type: 'change',
        props: { rules: [{ t: 'set', p: `payload.step${n}`, pt: 'msg', to: String(n), tot: 'num' }] },
        wires: n < 10 ? [[`c${n + 1}`]] : [],
      })),
    ],
  }));
}

describe('import under kill -9', () => {
  let dataDir: string;
  let runtime: ChildRuntime;
  afterAll(async () => {
    await runtime?.killHard();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves all 300 flows or none, whenever the process dies', async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'flowcrew-import-kill-'));
    runtime = new ChildRuntime({ dataDir, port: await freePort() });
    await runtime.start();
    const outcomes: string[] = [];
    // Kill at different moments of the import: while the body is parsed and validated, around the commit, after it.
    for (const [batch, delayMs] of [60, 250, 700].entries()) {
      const body = flows(batch);
      const answer = runtime.api('POST', `/api/v1/flows/import${batch % 2 ? '?deploy=true' : ''}`, body).then(
        (r) => r.status,
        () => 'no answer',
      );
      await new Promise((r) => setTimeout(r, delayMs));
      await runtime.killHard();
      const status = await answer;
      await runtime.start();
      const stored = ((await runtime.api('GET', '/api/v1/flows')).body as Array<{ id: string; deployed: boolean }>).filter((f) => f.id.startsWith(`b${batch}-`));
      outcomes.push(`${delayMs} ms: answer ${status}, ${stored.length} stored`);
      expect([0, 300], `kill after ${delayMs} ms (answer: ${status})`).toContain(stored.length);
      if (status === 201) expect(stored).toHaveLength(300);
      // With ?deploy, what is stored was deployed together: a restart deploys all of it again.
      if (batch % 2 && stored.length > 0) expect(stored.every((f) => f.deployed)).toBe(true);
    }
    console.log(`import kill -9 outcomes: ${outcomes.join('; ')}`);
  }, 180_000);
});
