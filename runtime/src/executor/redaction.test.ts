import { describe, expect, it } from 'vitest';
import type { ExecutionEvents } from './events.ts';
import { redactedLogger, redactingEvents, Redactor, REDACTED } from './redaction.ts';

const httpAuthSchema = { type: 'object', properties: { user: { type: 'string' }, password: { type: 'string', writeOnly: true }, allowedHosts: { type: 'array' } } };
const SECRET = 'pw-7d3f9a2e61c84b05';

function redactor(): Redactor {
  const r = new Redactor();
  r.addCredential({ user: 'ada', password: SECRET, allowedHosts: ['api.example.com'] }, httpAuthSchema);
  return r;
}

describe('Redactor', () => {
  it('does nothing, and allocates nothing, for a flow without credentials', () => {
    const r = new Redactor();
    const msg = { payload: { a: SECRET } };
    expect(r.active).toBe(false);
    expect(r.value(msg)).toBe(msg);
    expect(r.text(SECRET)).toBe(SECRET);
  });

  it('redacts writeOnly fields only, with the forms they travel in', () => {
    const r = redactor();
    const basic = Buffer.from(`ada:${SECRET}`).toString('base64');
    expect(r.text(`Authorization: Basic ${basic}`)).toBe(`Authorization: Basic ${REDACTED}`);
    expect(r.text(`token=${encodeURIComponent(SECRET)}&user=ada`)).toBe(`token=${REDACTED}&user=ada`);
    expect(r.text(Buffer.from(SECRET).toString('base64'))).toBe(REDACTED);
    expect(r.text('host api.example.com, user ada')).toBe('host api.example.com, user ada');
  });

  it('copies on write: the live message is untouched, unchanged branches are shared', () => {
    const r = redactor();
    const untouched = { list: [1, 2, 3] };
    const msg = { payload: { echoed: { headers: { authorization: `Bearer ${SECRET}` } }, untouched }, [SECRET]: 'key' };
    const out = r.value(msg);
    expect(out).toEqual({ payload: { echoed: { headers: { authorization: `Bearer ${REDACTED}` } }, untouched }, [REDACTED]: 'key' });
    expect(out.payload.untouched).toBe(untouched);
    expect(msg.payload.echoed.headers.authorization).toBe(`Bearer ${SECRET}`);
  });

  it('handles hostile nesting through JSON instead of recursion', () => {
    const r = redactor();
    let deep: unknown = SECRET;
    for (let i = 0; i < 5000; i++) deep = [deep];
    expect(JSON.stringify(r.value(deep))).not.toContain(SECRET);
  });

  it('guesses secret fields by name when the schema says nothing, and looks inside objects such as headers', () => {
    const r = new Redactor();
    r.addCredential({ apiToken: 'tok-1234567', region: 'eu-west-1', headers: { 'X-Api-Key': 'hdr-secret-99', Accept: 'application/json' } });
    expect(r.text('tok-1234567 eu-west-1 hdr-secret-99 application/json')).toBe(`${REDACTED} eu-west-1 ${REDACTED} application/json`);
  });

  it('takes a field secret in any oneOf branch (one credential type, several providers)', () => {
    const r = new Redactor();
    r.addCredential({ provider: 'openai-compatible', apiKey: 'sk-abcdef123456', model: 'gpt-x' }, { oneOf: [{ properties: { apiKey: { type: 'string', writeOnly: true }, model: { type: 'string' } } }] });
    expect(r.text('sk-abcdef123456 on gpt-x via openai-compatible')).toBe(`${REDACTED} on gpt-x via openai-compatible`);
  });

  it("takes a credential type's declared secret fields, and new values after a change", () => {
    const r = new Redactor();
    r.addCredential({ host: 'db.internal', dsnPart: 'secret-part-1' }, { properties: { host: { type: 'string' }, dsnPart: { type: 'string' } } }, ['dsnPart']);
    r.addCredential({ host: 'db.internal', dsnPart: 'secret-part-2' }, { properties: { host: { type: 'string' }, dsnPart: { type: 'string' } } }, ['dsnPart']);
    expect(r.text('db.internal secret-part-1 secret-part-2')).toBe(`db.internal ${REDACTED} ${REDACTED}`);
  });

    it('leaves values too short to be told from ordinary text', () => {
    const r = new Redactor();
    r.addCredential({ password: 'abc' }, httpAuthSchema);
    expect(r.active).toBe(false);
  });

  it('redacts what completeInvocation stores: outputs, error, next inputs, the run error', () => {
    const r = redactor();
    const change = r.completion({
      invocation: { id: 'i', status: 'failed', attempt: 1, outputs: [{ port: 0, msg: { payload: SECRET } }], error: `bad ${SECRET}`, startedAt: 1, finishedAt: 2 },
      next: [{ id: 'n', runId: 'r', nodeId: 'x', nodeType: 't', status: 'pending', attempt: 0, input: { payload: SECRET }, outputs: null, error: null, parentId: 'i', seq: 1, createdAt: 1, startedAt: null, finishedAt: null }],
      run: { id: 'r', status: 'failed', error: `node failed: ${SECRET}` },
    });
    expect(JSON.stringify(change)).not.toContain(SECRET);
    expect(JSON.stringify(change)).toContain(REDACTED);
  });

  it('absorbs a previous version\'s secrets on redeploy', () => {
    const next = new Redactor();
    next.absorb(redactor());
    expect(next.text(SECRET)).toBe(REDACTED);
  });
});

describe('redacting events and logs', () => {
  it('redacts every event of a flow with credentials, and passes other flows\' events as they are', () => {
    const seen: unknown[] = [];
    const sink = new Proxy({}, { get: (_t, name) => (event: unknown) => seen.push([name, event]) }) as ExecutionEvents;
    const r = redactor();
    const events = redactingEvents(sink, (flowId) => (flowId === 'secret' ? r : undefined));
    events.debug({ flowId: 'secret', runId: 'r', nodeId: 'n', value: { v: SECRET }, at: 1 });
    events.progress({ flowId: 'secret', runId: 'r', nodeId: 'n', invocationId: 'i', data: SECRET });
    events.nodeStarted({ flowId: 'secret', runId: 'r', nodeId: 'n', invocationId: 'i', attempt: 1, input: { payload: SECRET } });
    events.nodeFinished({ flowId: 'secret', runId: 'r', nodeId: 'n', invocationId: 'i', attempt: 1, status: 'failed', outputs: [{ port: 0, msg: { payload: SECRET } }], error: SECRET, durationMs: 1 });
    events.status({ flowId: 'secret', nodeId: 'n', status: { text: SECRET } });
    events.debug({ flowId: 'plain', runId: 'r', nodeId: 'n', value: 'not-a-secret-here', at: 1 });
    expect(JSON.stringify(seen)).not.toContain(SECRET);
    expect(seen).toHaveLength(6);
  });

  it('redacts log lines and their data', () => {
    const lines: unknown[] = [];
    const base = { debug: (...a: unknown[]) => lines.push(a), info: (...a: unknown[]) => lines.push(a), warn: (...a: unknown[]) => lines.push(a), error: (...a: unknown[]) => lines.push(a) };
    const log = redactedLogger(base, redactor());
    log.warn(`echoed ${SECRET}`, { headers: { authorization: SECRET } });
    expect(lines).toEqual([[`echoed ${REDACTED}`, { headers: { authorization: REDACTED } }]]);
  });
});
