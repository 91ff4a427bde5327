/**
 * n8n nodes that cannot be asked over HTTP, as n8n 1.x exports them: Schedule Trigger, Manual Trigger, Merge. No real n8n runs in CI (it is ~1.8 GB), and a
 * schedule cannot be asked over HTTP: what n8n's own code makes of each interval (its toCronExpression, recorded from
 * n8n-nodes-base by fixtures/n8n/record-schedules.ts into schedules.json) is compared with the cron of the translation.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEDULE_CASES } from './fixtures/n8n/schedule-cases.ts';
import { importN8n } from './n8n.ts';

const recorded = JSON.parse(await readFile(path.join(import.meta.dirname, 'fixtures', 'n8n', 'schedules.json'), 'utf8')) as Record<string, { cron: string; recurrence: boolean }>;

const workflowWith = (node: Record<string, unknown>) => ({ name: 'trigger', nodes: [{ id: 't1', name: 'Trigger', position: [0, 0], ...node }, { id: 'n1', name: 'Next', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [200, 0], parameters: { amount: 1, unit: 'seconds' } }], connections: { Trigger: { main: [[{ node: 'Next', type: 'main', index: 0 }]] } } });

/** Six fields, n8n's random fields read as 0 (one of the values it draws), `*\/1` as `*`. */
const normalise = (cron: string) => (cron.split(' ').length === 5 ? `0 ${cron}` : cron).split(' ').map((f) => (f === 'R' ? '0' : f === '*/1' ? '*' : f)).join(' ');

describe('n8n Schedule Trigger v1.2: the cron of each interval, compared with n8n\'s own', () => {
  it('was recorded from a real n8n', () => expect(recorded.$recordedWith).toMatch(/^n8n 1\./));

  it.each(SCHEDULE_CASES.map((c) => [c.label, c] as const))('%s', (label, c) => {
    const result = importN8n(workflowWith({ type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, parameters: { rule: { interval: [c.interval] } } }));
    expect(result.unmapped).toEqual([]);
    const [trigger] = result.flows[0]!.nodes.filter((n) => n.type === 'cron');
    const ours = normalise((trigger!.props as { expression: string }).expression);
    const theirs = recorded[label]!;
    if (ours === normalise(theirs.cron)) {
      // the same times (n8n's recurrence filter, if any, lets every one of them through: N divides the day or year)
      expect(result.warnings.filter((w) => w.includes('last run'))).toEqual([]);
    } else {
      // n8n fires a finer cron and keeps runs N units after its last one: the import says how this one differs
      expect(theirs.recurrence, `${label}: ours ${ours}, n8n ${theirs.cron}`).toBe(true);
      expect(result.warnings).toEqual([expect.stringMatching(/^trigger: Schedule "Trigger": every \d+ days runs on days 1, .* \(n8n: \d+ days after its last run\)/)]);
    }
  });

  it('several intervals: one cron node each, all wired to what follows', () => {
    const result = importN8n(workflowWith({ type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, parameters: { rule: { interval: [{ field: 'minutes', minutesInterval: 15 }, { field: 'weeks', triggerAtDay: [1], triggerAtHour: 9 }] } } }));
    const crons = result.flows[0]!.nodes.filter((n) => n.type === 'cron');
    expect(crons.map((n) => [n.name, (n.props as { expression: string }).expression])).toEqual([['Trigger (1)', '*/15 * * * *'], ['Trigger (2)', '0 9 * * 1']]);
    expect(crons.every((n) => JSON.stringify(n.wires) === JSON.stringify(crons[0]!.wires) && (n.wires?.[0]?.length ?? 0) > 0)).toBe(true);
  });

  it('every N weeks (N > 1) has no cron: listed as not translated, with the reason', () => {
    const result = importN8n(workflowWith({ type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, parameters: { rule: { interval: [{ field: 'weeks', weeksInterval: 2 }] } } }));
    expect(result.unmapped.map((u) => u.reason)).toEqual(['a schedule every N > 1 weeks has no cron equivalent']);
  });
});

describe('n8n Manual Trigger v1', () => {
  it('becomes an inject node sending one empty item (n8n\'s manual run starts with one item {})', () => {
    const result = importN8n(workflowWith({ type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, parameters: {} }));
    expect(result.unmapped).toEqual([]);
    const trigger = result.flows[0]!.nodes.find((n) => n.id === 't1')!;
    expect(trigger).toMatchObject({ type: 'inject', name: 'Trigger', props: { props: [{ p: 'payload', v: '{}', vt: 'json' }] } });
    expect(trigger.wires?.[0]?.length).toBeGreaterThan(0);
  });
});

describe('n8n Merge v3 (no comparison with a real n8n: its append waits for both inputs, ours does not)', () => {
  const merge = (parameters: Record<string, unknown>) => ({
    name: 'merge', nodes: [
      { id: 'w', name: 'Hook', type: 'n8n-nodes-base.webhook', typeVersion: 2, position: [0, 0], parameters: { httpMethod: 'POST', path: 'm', responseMode: 'onReceived', options: {} } },
      { id: 'a', name: 'A', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [200, 0], parameters: { amount: 1, unit: 'seconds' } },
      { id: 'b', name: 'B', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [200, 100], parameters: { amount: 2, unit: 'seconds' } },
      { id: 'm', name: 'Merge', type: 'n8n-nodes-base.merge', typeVersion: 3.2, position: [400, 0], parameters },
      { id: 'z', name: 'After', type: 'n8n-nodes-base.wait', typeVersion: 1.1, position: [600, 0], parameters: { amount: 3, unit: 'seconds' } },
    ],
    connections: { Hook: { main: [[{ node: 'A', type: 'main', index: 0 }, { node: 'B', type: 'main', index: 0 }]] }, A: { main: [[{ node: 'Merge', type: 'main', index: 0 }]] }, B: { main: [[{ node: 'Merge', type: 'main', index: 1 }]] }, Merge: { main: [[{ node: 'After', type: 'main', index: 0 }]] } },
  });

  it('append (the default, left out of the export): both inputs wired to what follows, and the import says how it differs', () => {
    const result = importN8n(merge({}));
    expect(result.unmapped).toEqual([]);
    const nodes = result.flows[0]!.nodes;
    expect(nodes.find((n) => n.id === 'a')!.wires).toEqual([['z']]);
    expect(nodes.find((n) => n.id === 'b')!.wires).toEqual([['z']]);
    expect(result.warnings).toContainEqual(expect.stringContaining('Merge "Merge" (append): each item passes on as its own message as soon as it arrives (n8n waits for both inputs'));
  });

  it.each([
    [{ mode: 'combine', combineBy: 'combineByPosition', options: {} }, 'combine'],
    [{ mode: 'combine', fieldsToMatchString: 'id', options: {} }, 'combine'],
    [{ mode: 'chooseBranch', useDataOfInput: 2 }, 'chooseBranch'],
    [{ mode: 'combineBySql', query: 'SELECT * FROM input1' }, 'combineBySql'],
  ])('%j is listed as not translated, the node kept in place failing with the reason', (parameters, mode) => {
    const result = importN8n(merge(parameters));
    const what = mode === 'chooseBranch' ? 'waits for both inputs, then outputs one of them' : 'items combined across inputs';
    expect(result.unmapped.map((u) => [u.name, u.reason])).toEqual([['Merge', `Merge mode "${mode}" (${what}) is not translated: use a join node`]]);
  });
});
