import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { ProblemError } from '../errors.ts';
import type { Actor } from './actor.ts';
import { openTestIdentity, type OpenedIdentity } from './testing.ts';

let opened: OpenedIdentity | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

const ada: Actor = { kind: 'user', id: 'u-ada', name: 'ada', instanceRole: 'admin', projects: {}, via: 'session', from: '10.0.0.1' };

async function collect(gen: AsyncGenerator<string>): Promise<string> {
  let out = '';
  for await (const chunk of gen) out += chunk;
  return out;
}

describe('audit log', () => {
  it('records who, what, when, from where, target, outcome; newest first', async () => {
    opened = await openTestIdentity();
    const audit = opened.identity.audit;
    const before = Date.now();
    await audit.record(ada, { action: 'flow.deploy', outcome: 'success', target: { type: 'flow', id: 'orders' }, projectId: 'default', detail: { version: 3 } });
    await audit.record({ kind: 'anonymous', name: 'eve' }, { action: 'auth.login', outcome: 'failure', ip: '203.0.113.9' });
    const { entries, next } = await audit.query();
    expect(next).toBeNull();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ actor: { kind: 'anonymous', id: '', name: 'eve', via: 'none' }, action: 'auth.login', outcome: 'failure', ip: '203.0.113.9' });
    expect(entries[1]).toMatchObject({
      actor: { kind: 'user', id: 'u-ada', name: 'ada', via: 'session' },
      action: 'flow.deploy',
      outcome: 'success',
      targetType: 'flow',
      targetId: 'orders',
      projectId: 'default',
      ip: '10.0.0.1',
      detail: { version: 3 },
    });
    expect(entries[1]!.at).toBeGreaterThanOrEqual(before);
  });

  it('filters and pages with a cursor; a bad filter is a 422 naming the parameter', async () => {
    opened = await openTestIdentity();
    const audit = opened.identity.audit;
    for (let i = 0; i < 5; i++) await audit.record(ada, { action: i % 2 ? 'auth.login' : 'token.create', outcome: 'success' });
    const page1 = await audit.query({ limit: 2 });
    const page2 = await audit.query({ limit: 2, before: page1.next! });
    const page3 = await audit.query({ limit: 2, before: page2.next! });
    expect([page1.entries.length, page2.entries.length, page3.entries.length, page3.next]).toEqual([2, 2, 1, null]);
    expect(new Set([...page1.entries, ...page2.entries, ...page3.entries].map((e) => e.id)).size).toBe(5);
    expect((await audit.query({ action: 'auth.' })).entries).toHaveLength(2);
    expect((await audit.query({ action: 'token.create', actorId: 'u-ada' })).entries).toHaveLength(3);
    for (const [query, pointer] of [
      [{ limit: 0 }, '/limit'],
      [{ limit: 5000 }, '/limit'],
      [{ since: -1 }, '/since'],
      [{ outcome: 'maybe' }, '/outcome'],
    ] as const) {
      const error = await audit.query(query as never).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(ProblemError);
      expect((error as ProblemError).issues[0]!.pointer).toBe(pointer);
    }
  });

  it('exports every matching entry as JSON lines or CSV (formula cells escaped), across pages', async () => {
    opened = await openTestIdentity();
    const audit = opened.identity.audit;
    const records = Array.from({ length: 1203 }, (_, i) => ({
      id: `0190${String(i).padStart(8, '0')}`,
      at: 1_700_000_000_000 + i,
      actorKind: 'user',
      actorId: 'u-ada',
      actorName: i === 0 ? '=HYPERLINK("http://evil")' : 'ada',
      via: 'session',
      action: 'flow.update',
      outcome: 'success',
      targetType: 'flow',
      targetId: `f${i}`,
      projectId: 'default',
      ip: '10.0.0.1',
      detail: i === 1 ? JSON.stringify({ note: 'with, comma and "quotes"' }) : null,
    }));
    await opened.storage.identity.appendAudit(records);
    const jsonl = await collect(audit.export({}, 'jsonl'));
    const lines = jsonl.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1203);
    expect(lines[0].targetId).toBe('f1202');
    const csv = parse(await collect(audit.export({ since: 1_700_000_000_000 + 1 }, 'csv')), { columns: true }) as Record<string, string>[];
    expect(csv).toHaveLength(1202);
    expect(Object.keys(csv[0]!)).toEqual(['id', 'at', 'actor_kind', 'actor_id', 'actor_name', 'via', 'action', 'outcome', 'target_type', 'target_id', 'project_id', 'ip', 'detail']);
    expect(csv.at(-1)!.detail).toBe('{"note":"with, comma and \\"quotes\\""}');
    expect(csv[0]!.at).toBe(new Date(1_700_000_000_000 + 1202).toISOString());
    const first = parse(await collect(audit.export({ targetId: 'f0' }, 'csv')), { columns: true }) as Record<string, string>[];
    expect(first[0]!.actor_name).toBe('\'=HYPERLINK("http://evil")');
    await expect(collect(audit.export({}, 'xml' as never))).rejects.toThrow(/format/);
  });

  it('has no way to change or delete an entry: record, query and export only, down to the store', async () => {
    opened = await openTestIdentity();
    expect(Object.getOwnPropertyNames(Object.getPrototypeOf(opened.identity.audit)).sort()).toEqual(['constructor', 'export', 'query', 'record']);
    const storeMethods = Object.getOwnPropertyNames(Object.getPrototypeOf(opened.storage.identity)).filter((k) => /audit/i.test(k));
    expect(storeMethods.sort()).toEqual(['appendAudit', 'queryAudit']);
  });
});
