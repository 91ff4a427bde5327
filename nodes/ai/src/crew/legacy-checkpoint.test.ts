/**
 * Reading crew checkpoints of earlier versions (legacy-checkpoint.ts) from the fixture that version wrote; the
 * runtime path (a suspended run resuming after the upgrade) is nodes/crew-legacy-checkpoint.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CrewSteps } from './checkpoint.ts';
import { legacySteps, type LegacySource } from './legacy-checkpoint.ts';

const fixture = JSON.parse(readFileSync(new URL('./fixtures/legacy-checkpoint/node-context.json', import.meta.url), 'utf8')) as Record<string, Record<string, unknown>>;
const stored = fixture['flowcrew.crew.checkpoint:RUN:crew:INVOCATION']!;

function source(entries: Record<string, unknown>, attempt = 2) {
  const map = new Map(Object.entries(structuredClone(entries)));
  const warnings: string[] = [];
  const src: LegacySource = {
    context: { get: (k) => map.get(k), set: (k, v) => void (v === undefined ? map.delete(k) : map.set(k, v)), keys: () => [...map.keys()] },
    idempotencyKey: `RUN:crew:INVOCATION:${attempt}`,
    log: { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) },
  };
  return { src, map, warnings };
}

describe('crew checkpoints of an earlier version', () => {
  it('reads the stored tasks and drafts as steps, in the order they were made, for any attempt of the invocation', () => {
    const { src } = source(fixture, 3);
    const steps = legacySteps(src);
    expect(steps.map((s) => [s.key, s.kind, s.partOf ?? null])).toEqual([
      ['task:research', 'task', null],
      ['draft:write#0', 'draft', 'task:write'],
    ]);
    expect(steps[0]).toMatchObject({ label: 'research (Researcher)', output: { output: 'Fact (stored by the earlier version): pgvector 0.5 added HNSW indexes.' }, startedAt: 1764720000000 });
  });

  it("puts a hierarchical crew's plan first and each task's drafts before it; skips unreadable parts with a warning", () => {
    const { src, warnings } = source({
      'flowcrew.crew.checkpoint:RUN:crew:INVOCATION': {
        ...stored,
        plan: 'Research first.',
        tasks: { ...(stored.tasks as object), write: { task: 'write', agent: 'Writer', output: 'Final.', iterations: 1, toolCalls: [], truncated: false, toolsUnused: false, notes: [] }, broken: 'nonsense' },
        drafts: { ...(stored.drafts as object), 'write#1': { agent: 'Writer', output: 'Second.' }, 'write#x': { agent: 'Writer', output: '?' } },
      },
    });
    expect(legacySteps(src).map((s) => s.key)).toEqual(['plan', 'task:research', 'draft:write#0', 'draft:write#1', 'task:write']);
    expect(warnings).toEqual(['crew checkpoint of an earlier version: task "broken", draft "write#x" not readable, done again']);
  });

  it('a host without steps (the SDK harness) takes the old checkpoint and keeps it until the crew has finished', async () => {
    const { src, map } = source(fixture);
    const steps = await CrewSteps.open(undefined, src);
    expect(steps.task('research')?.output).toBe('Fact (stored by the earlier version): pgvector 0.5 added HNSW indexes.');
    expect(steps.draft('write', 0)?.agent).toBe('Writer');
    expect(steps.takenNote('research')).toContain('taken from the checkpoint');
    expect(map.size).toBe(1);
    steps.settled();
    expect(map.size).toBe(0);
  });

  it('nothing stored: no steps', () => {
    expect(legacySteps(source({}).src)).toEqual([]);
    expect(legacySteps(source({ 'flowcrew.crew.checkpoint:RUN:crew:INVOCATION': { savedAt: 1 } }).src)).toEqual([]);
  });
});
