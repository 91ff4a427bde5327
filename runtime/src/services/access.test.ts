import { describe, expect, it } from 'vitest';
import { ProblemError } from '../errors.ts';
import type { Actor } from '../identity/actor.ts';
import { authorize, projectFilter, projectIdsFor, requirePermission } from './access.ts';

const user = (projects: Actor['projects'], extra: Partial<Actor> = {}): Actor => ({ kind: 'user', id: 'u', name: 'u', instanceRole: 'member', projects, via: 'session', ...extra });

function refusal(work: () => void): { status: number; message: string } | null {
  try {
    work();
    return null;
  } catch (error) {
    if (!(error instanceof ProblemError)) throw error;
    return { status: error.status, message: error.message };
  }
}

describe('authorize', () => {
  it('lets a role do what it holds in the resource project', () => {
    expect(refusal(() => authorize(user({ a: 'editor' }), 'flow:deploy', 'a', 'flow:read', 'flow "f"'))).toBeNull();
  });

  it('answers 403 naming the permission to someone who can see the resource but not do this', () => {
    expect(refusal(() => authorize(user({ a: 'viewer' }), 'flow:deploy', 'a', 'flow:read', 'flow "f"'))).toEqual({ status: 403, message: 'this needs the flow:deploy permission in project "a"' });
  });

  it('answers exactly the not-found of a missing id to someone who cannot see the project, whatever their roles elsewhere', () => {
    const hidden = refusal(() => authorize(user({ b: 'owner' }), 'flow:read', 'a', 'flow:read', 'flow "f"'));
    expect(hidden).toEqual({ status: 404, message: 'flow "f" does not exist' });
  });

  it('treats a token whose scopes lack the read permission as not seeing the resource', () => {
    const token = user({ a: 'owner' }, { kind: 'token', via: 'token', scopes: new Set(['run:start']) });
    expect(refusal(() => authorize(token, 'flow:deploy', 'a', 'flow:read', 'flow "f"'))?.status).toBe(404);
    expect(refusal(() => authorize(token, 'run:start', 'a', 'flow:read', 'flow "f"'))).toBeNull();
  });

  it('lets instance admins do anything anywhere', () => {
    expect(refusal(() => authorize(user({}, { instanceRole: 'admin' }), 'credential:write', 'z', 'credential:read', 'credential "c"'))).toBeNull();
  });
});

describe('requirePermission and project filters', () => {
  it('requires the permission in at least one project, or instance-wide', () => {
    expect(refusal(() => requirePermission(user({ a: 'viewer', b: 'editor' }), 'flow:write'))).toBeNull();
    expect(refusal(() => requirePermission(user({ a: 'owner' }), 'audit:read'))?.status).toBe(403);
  });

  it('lists the projects where the actor holds a permission (undefined: all of them)', () => {
    const actor = user({ a: 'viewer', b: 'operator', c: 'owner' });
    expect(projectIdsFor(actor, 'run:start')).toEqual(['b', 'c']);
    expect(projectIdsFor(user({}, { instanceRole: 'admin' }), 'run:start')).toBeUndefined();
    const readable = projectFilter(actor, 'token:manage');
    expect(['a', 'b', 'c', 'd'].filter(readable)).toEqual(['c']);
  });
});
