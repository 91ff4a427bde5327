/** The PostgreSQL LISTEN trigger against the real server: notifications become runs, credential edits reconnect. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutboundGuard } from '@flowcrew/runtime/outbound';
import { closeTestServices, createTestNode, setTestServiceDefaults } from '@flowcrew/sdk/testing';
import type { FlowMessage } from '@flowcrew/sdk';
import { postgresListenNode } from './listen.ts';
import { openTestDatabase, testFields, type TestDatabase } from './testing.ts';

const outbound = createOutboundGuard({ allow: ['127.0.0.1'] });
setTestServiceDefaults({ outbound });

let db: TestDatabase;
beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await closeTestServices();
  await db?.close();
  await outbound.close();
});

async function until<T>(what: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('postgres-listen trigger', () => {
  it('starts a run per NOTIFY, JSON payloads parsed, in order; stop closes the listening connection', async () => {
    const fields = testFields();
    const trigger = await createTestNode(postgresListenNode, { channel: 'Orders Channel', json: true }, { credentials: fields, credential: { id: 'listen-1' } });
    await trigger.start();
    expect(await db.connections(fields.applicationName!)).toBe(1);
    for (let i = 1; i <= 5; i++) await db.admin.query('SELECT pg_notify($1, $2)', ['Orders Channel', JSON.stringify({ id: i })]);
    await db.admin.query(`SELECT pg_notify('Orders Channel', 'plain text')`);
    const emitted = await until(() => (trigger.emitted.length >= 6 ? trigger.emitted.map((e) => e.msg) : undefined));
    expect(emitted.map((m: FlowMessage) => m.payload)).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }, 'plain text']);
    expect(emitted[0]).toMatchObject({ channel: 'Orders Channel', topic: 'Orders Channel', pid: expect.any(Number) });
    expect(trigger.statuses.at(-1)).toEqual({ fill: 'green', shape: 'dot', text: 'listening on Orders Channel' });
    await trigger.stop();
    expect(await db.waitForConnections(fields.applicationName!, 0)).toBe(0);
  });

  it('listens again with the new fields when the credential changes, closing the old connection', async () => {
    const before = testFields();
    const after = { ...before, applicationName: `${before.applicationName}-v2` };
    const trigger = await createTestNode(postgresListenNode, { channel: 'jobs', json: true }, { credentials: before, credential: { id: 'listen-2' } });
    await trigger.start();
    trigger.changeCredential(after);
    expect(await db.waitForConnections(after.applicationName!, 1)).toBe(1);
    expect(await db.waitForConnections(before.applicationName!, 0)).toBe(0);
    await db.admin.query(`SELECT pg_notify('jobs', '{"n": 1}')`);
    expect((await until(() => trigger.emitted[0]?.msg)).payload).toEqual({ n: 1 });
    await trigger.stop();
    expect(await db.waitForConnections(after.applicationName!, 0)).toBe(0);
  });

  it('reconnects by itself when the server drops the connection', async () => {
    const fields = testFields();
    const trigger = await createTestNode(postgresListenNode, { channel: 'wake', json: false }, { credentials: fields, credential: { id: 'listen-3' } });
    await trigger.start();
    await db.admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1', [fields.applicationName]);
    await until(() => (trigger.statuses.some((s) => s.text === 'reconnecting') ? true : undefined));
    await until(async () => ((await db.connections(fields.applicationName!)) === 1 && trigger.statuses.at(-1)?.fill === 'green' ? true : undefined));
    await db.admin.query(`SELECT pg_notify('wake', 'again')`);
    expect((await until(() => trigger.emitted[0]?.msg)).payload).toBe('again');
    expect(trigger.logs.some((l) => l.level === 'warn' && /listening connection lost/.test(l.message))).toBe(true);
    await trigger.stop();
    expect(await db.waitForConnections(fields.applicationName!, 0)).toBe(0);
  });

  it('logs a notification whose run could not be stored (NOTIFY cannot be redelivered)', async () => {
    const fields = testFields();
    const trigger = await createTestNode(
      postgresListenNode,
      { channel: 'lossy', json: true },
      {
        credentials: fields,
        credential: { id: 'listen-4' },
        onEmit: async () => {
          throw new Error('database is locked');
        },
      },
    );
    await trigger.start();
    await db.admin.query(`SELECT pg_notify('lossy', '{}')`);
    const line = await until(() => trigger.logs.find((l) => l.level === 'error'));
    expect(line.message).toBe('notification on "lossy" lost: its run could not be stored: database is locked');
    await trigger.stop();
  });
});
