import { afterEach, describe, expect, it } from 'vitest';
import { ProblemError } from '../errors.ts';
import { SYSTEM_ACTOR, type Actor } from './actor.ts';
import { flowDoc } from '../storage/fixtures.ts';
import { auditEntries, openTestIdentity, type OpenedIdentity } from './testing.ts';

let opened: OpenedIdentity | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

async function problem(p: Promise<unknown>): Promise<ProblemError> {
  const error = await p.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ProblemError);
  return error as ProblemError;
}

describe('projects and members', () => {
  it('default always exists and cannot be deleted', async () => {
    opened = await openTestIdentity();
    expect((await opened.identity.projects.list()).map((p) => p.id)).toEqual(['default']);
    expect((await problem(opened.identity.projects.delete(SYSTEM_ACTOR, 'default'))).status).toBe(409);
  });

  it('create: id from the name (unique suffix), explicit id must be free; the creating user becomes owner', async () => {
    opened = await openTestIdentity();
    const { projects, users } = opened.identity;
    const ada = await users.create(SYSTEM_ACTOR, { username: 'ada', password: 'a long passphrase' });
    const actor: Actor = { kind: 'user', id: ada.id, name: 'ada', instanceRole: 'member', projects: {}, via: 'session' };
    expect((await projects.create(actor, { name: 'Marketing Ops!' })).id).toBe('marketing-ops');
    expect((await projects.create(actor, { name: 'Marketing ops' })).id).toBe('marketing-ops-2');
    expect((await problem(projects.create(actor, { id: 'marketing-ops', name: 'x' }))).status).toBe(409);
    expect((await problem(projects.create(actor, { id: 'Bad Id', name: 'x' }))).issues[0]!.pointer).toBe('/id');
    expect((await problem(projects.create(actor, { name: '' }))).issues[0]!.pointer).toBe('/name');
    expect((await users.get(ada.id))!.projects).toEqual({ 'marketing-ops': 'owner', 'marketing-ops-2': 'owner' });
    expect((await auditEntries(opened.identity, { action: 'project.create' })).length).toBe(2);
  });

  it('members: add, change role, remove (audited); 404 for unknown project, user or member; 422 for a bad role', async () => {
    opened = await openTestIdentity();
    const { projects, users } = opened.identity;
    const bob = await users.create(SYSTEM_ACTOR, { username: 'bob', password: 'a long passphrase' });
    await projects.setMember(SYSTEM_ACTOR, 'default', bob.id, 'viewer');
    const changed = await projects.setMember(SYSTEM_ACTOR, 'default', bob.id, 'operator');
    expect(changed).toMatchObject({ userId: bob.id, username: 'bob', role: 'operator' });
    expect(await projects.members('default')).toEqual([changed]);
    expect((await problem(projects.setMember(SYSTEM_ACTOR, 'nope', bob.id, 'viewer'))).status).toBe(404);
    expect((await problem(projects.setMember(SYSTEM_ACTOR, 'default', 'nobody', 'viewer'))).status).toBe(404);
    expect((await problem(projects.setMember(SYSTEM_ACTOR, 'default', bob.id, 'god' as never))).status).toBe(422);
    await projects.removeMember(SYSTEM_ACTOR, 'default', bob.id);
    expect((await problem(projects.removeMember(SYSTEM_ACTOR, 'default', bob.id))).status).toBe(404);
    const actions = (await auditEntries(opened.identity)).map((e) => e.action).filter((a) => a.startsWith('project.member'));
    expect(actions).toEqual(['project.member.remove', 'project.member.role', 'project.member.add']);
  });

  it('delete: refused while flows live in it (nothing removed), then removes members', async () => {
    opened = await openTestIdentity();
    const { projects } = opened.identity;
    await projects.create(SYSTEM_ACTOR, { id: 'p', name: 'P' });
    await opened.storage.saveFlow(flowDoc('f'), 0, { projectId: 'p' });
    const refused = await problem(projects.delete(SYSTEM_ACTOR, 'p'));
    expect([refused.status, refused.message]).toEqual([409, 'Project "p" still has 1 flow(s) and 0 credential(s): move or delete them first.']);
    expect(await projects.get('p')).not.toBeNull();
    await opened.storage.deleteFlow('f');
    await projects.delete(SYSTEM_ACTOR, 'p');
    expect(await projects.get('p')).toBeNull();
    expect((await problem(projects.delete(SYSTEM_ACTOR, 'p'))).status).toBe(404);
  });
});
