/**
 * How services say no. One rule everywhere: someone who may not even read a project's resources of a kind learns
 * nothing about them (404, exactly as for an id that does not exist); someone who may read them but not do this gets
 * 403 naming the permission. So an editor of project A asking for project B's flow, run or credential gets the same
 * 404 as for a made-up id, and a viewer deploying a flow they can see gets 403.
 */
import { ProblemError, notFound } from '../errors.ts';
import { can, projectsWith, type Actor, type Permission } from '../identity/actor.ts';

export function forbidden(detail: string): ProblemError {
  return new ProblemError(403, 'Forbidden', detail);
}

/** Instance-wide permission (or "held in at least one project"). */
export function requirePermission(actor: Actor, permission: Permission): void {
  if (!can(actor, permission)) throw forbidden(`this needs the ${permission} permission, which you do not hold`);
}

/**
 * `permission` on a resource of `projectId`. `read` is the permission that makes the resource visible at all;
 * `what` names it in the 404 ('flow "x"'), worded exactly like the not-found of a missing id.
 */
export function authorize(actor: Actor, permission: Permission, projectId: string, read: Permission, what: string): void {
  if (can(actor, permission, projectId)) return;
  if (can(actor, read, projectId)) throw forbidden(`this needs the ${permission} permission in project "${projectId}"`);
  throw notFound(what);
}

/** A predicate over project ids: may `actor` use `permission` there? (For filtering lists.) */
export function projectFilter(actor: Actor, permission: Permission): (projectId: string) => boolean {
  const allowed = projectsWith(actor, permission);
  if (allowed === '*') return () => true;
  const set = new Set(allowed);
  return (projectId) => set.has(projectId);
}

/** The project ids for a storage filter: undefined = all (instance admin), else the list (maybe empty). */
export function projectIdsFor(actor: Actor, permission: Permission): string[] | undefined {
  const allowed = projectsWith(actor, permission);
  return allowed === '*' ? undefined : allowed;
}
