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
import { recurrenceFilter } from './n8n-schedule.ts';

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
    // the same times as n8n's cron, and n8n's recurrence check after it exactly where n8n applies one
    expect(ours).toBe(normalise(theirs.cron));
    const filter = result.flows[0]!.nodes.find((n) => n.type === 'function');
    expect(Boolean(filter), `${label}: recurrence filter`).toBe(theirs.recurrence);
    if (filter) expect(trigger!.wires).toEqual([[filter.id]]);
    expect(result.warnings.filter((w) => w.includes('Schedule'))).toEqual([]);
  });

  it('several intervals: one cron node each, all wired to what follows', () => {
    const result = importN8n(workflowWith({ type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, parameters: { rule: { interval: [{ field: 'minutes', minutesInterval: 15 }, { field: 'weeks', triggerAtDay: [1], triggerAtHour: 9 }] } } }));
    const crons = result.flows[0]!.nodes.filter((n) => n.type === 'cron');
    expect(crons.map((n) => [n.name, (n.props as { expression: string }).expression])).toEqual([['Trigger (1)', '*/15 * * * *'], ['Trigger (2)', '0 9 * * 1']]);
    expect(crons.every((n) => JSON.stringify(n.wires) === JSON.stringify(crons[0]!.wires) && (n.wires?.[0]?.length ?? 0) > 0)).toBe(true);
  });

  it('every N weeks (N > 1): the chosen days each week, then n8n\'s recurrence check', () => {
    const result = importN8n(workflowWith({ type: 'n8n-nodes-base.scheduleTrigger', typeVersion: 1.2, parameters: { rule: { interval: [{ field: 'weeks', weeksInterval: 2, triggerAtDay: [1, 4], triggerAtHour: 7 }] } } }));
    expect(result.unmapped).toEqual([]);
    const [cron, filter] = result.flows[0]!.nodes.filter((n) => n.type === 'cron' || n.type === 'function');
    expect(cron!.props).toEqual({ expression: '0 7 * * 1,4' });
    expect(filter!.wires?.[0]).toEqual(['n1']);
  });
});

/** Runs a recurrence filter's code at the given local times, with one node context: which firings it lets through. */
function firings(code: string, times: string[]): string[] {
  const store = new Map<string, unknown>();
  const context = { get: (k: string) => store.get(k), set: (k: string, v: unknown) => store.set(k, v) };
  const passed: string[] = [];
  for (const time of times) {
    const FixedDate = class extends Date { constructor() { super(time); } };
    const run = new Function('msg', 'context', 'Date', code) as (msg: unknown, c: typeof context, d: DateConstructor) => unknown;
    if (run({ payload: time }, context, FixedDate as DateConstructor) !== null) passed.push(time);
  }
  return passed;
}

describe("n8n's recurrence check (every N hours, days, weeks, months counted from the last run)", () => {
  it('every 3 days: the first firing, then 3 calendar days later, across a month and a year end', () => {
    const days = ['2026-12-27', '2026-12-28', '2026-12-29', '2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02', '2027-01-03'].map((d) => `${d}T06:00:00`);
    expect(firings(recurrenceFilter('days', 3), days)).toEqual(['2026-12-27T06:00:00', '2026-12-30T06:00:00', '2027-01-02T06:00:00']);
  });

  it('every 5 hours fired hourly: every fifth hour, across midnight', () => {
    const hours = Array.from({ length: 12 }, (_, i) => new Date(Date.UTC(2026, 0, 1, 20 + i)).toISOString().slice(0, 13)).map((h) => `${h}:10:00`);
    const local = hours.map((h) => { const d = new Date(`${h}Z`); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}T${String(d.getHours()).padStart(2, '0')}:10:00`; });
    expect(firings(recurrenceFilter('hours', 5), local)).toEqual([local[0], local[5], local[10]]);
  });

  it('every 2 weeks on Monday and Thursday: both days of a week let through, the next week not', () => {
    const days = ['2026-03-02', '2026-03-05', '2026-03-09', '2026-03-12', '2026-03-16', '2026-03-19'].map((d) => `${d}T07:00:00`);
    expect(firings(recurrenceFilter('weeks', 2), days)).toEqual([days[0], days[1], days[4], days[5]]);
  });

  it('every 5 months fired monthly: every fifth month, across a year end', () => {
    const months = Array.from({ length: 12 }, (_, i) => `${2026 + Math.floor((i + 8) / 12)}-${String(((i + 8) % 12) + 1).padStart(2, '0')}-15T12:45:00`);
    expect(firings(recurrenceFilter('months', 5), months)).toEqual([months[0], months[5], months[10]]);
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

describe('n8n Merge v3 (no comparison with a real n8n here: its append is checked through the runtime in n8n-merge.test.ts)', () => {
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

  it('append (the default, left out of the export): each input marked, then one node sending a run\'s items in input order', () => {
    const result = importN8n(merge({}));
    expect(result.unmapped).toEqual([]);
    const nodes = result.flows[0]!.nodes;
    expect(nodes.find((n) => n.id === 'a')!.wires).toEqual([['m-input-1']]);
    expect(nodes.find((n) => n.id === 'b')!.wires).toEqual([['m-input-2']]);
    expect(nodes.find((n) => n.id === 'm-input-2')).toMatchObject({ type: 'change', wires: [['m']] });
    expect(nodes.find((n) => n.id === 'm')).toMatchObject({ type: 'function', name: 'Merge', wires: [['z']] });
    expect(result.warnings).toContainEqual(expect.stringContaining('Merge "Merge" (append): waits for the first item of each input of a run'));
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
