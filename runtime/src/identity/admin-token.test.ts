import { describe, expect, it } from 'vitest';
import { can } from './actor.ts';
import { AdminToken } from './admin-token.ts';

describe('FLOWCREW_ADMIN_TOKEN', () => {
  it('off when unset: nothing matches', () => {
    const t = new AdminToken(undefined);
    expect(t.enabled).toBe(false);
    expect(t.matches('')).toBe(false);
  });

  it('matches exactly that value (not a prefix, not a longer string)', () => {
    const t = new AdminToken('s3cret-bootstrap-token');
    expect(t.matches('s3cret-bootstrap-token')).toBe(true);
    expect(t.matches('s3cret-bootstrap-toke')).toBe(false);
    expect(t.matches('s3cret-bootstrap-token ')).toBe(false);
    expect(t.matches('S3cret-bootstrap-token')).toBe(false);
  });

  it('acts as an instance admin via admin-token', () => {
    const actor = new AdminToken('s3cret-bootstrap-token').actor('10.1.2.3');
    expect(actor).toMatchObject({ kind: 'token', id: 'admin-token', instanceRole: 'admin', via: 'admin-token', from: '10.1.2.3' });
    expect(can(actor, 'user:manage')).toBe(true);
    expect(can(actor, 'flow:deploy', 'any-project')).toBe(true);
  });

  it('audits the first use, then at most once a minute', () => {
    const t = new AdminToken('s3cret-bootstrap-token');
    expect(t.shouldAudit(1_000_000)).toBe(true);
    expect(t.shouldAudit(1_000_001)).toBe(false);
    expect(t.shouldAudit(1_059_999)).toBe(false);
    expect(t.shouldAudit(1_060_000)).toBe(true);
  });
});
