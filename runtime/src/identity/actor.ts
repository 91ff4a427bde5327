/**
 * Who is acting: every REST request, Socket.IO connection and CLI command acts as an Actor, and every service method
 * takes one and checks the permission itself (so no adapter can forget). One home for roles and permissions.
 */

/** Instance-wide role: an admin can do everything everywhere; a member only what their project roles allow. */
export type InstanceRole = 'admin' | 'member';

/** Role a user (or token) has in one project. Ordered from most to least powerful. */
export const PROJECT_ROLES = ['owner', 'editor', 'operator', 'viewer'] as const;
export type ProjectRole = (typeof PROJECT_ROLES)[number];

/** Every permission a route, socket event or CLI command can require. */
export const PERMISSIONS = [
  'flow:read', // list/read/export flows, read debug buffer, subscribe to a flow's live events
  'flow:write', // create/update/delete/import flows
  'flow:deploy', // deploy/undeploy
  'flow:promote', // promote another environment's branch into a project: merge + push + deploy (instance admin only)
  'run:read', // list/read runs, subscribe to a run's live events, stats
  'run:start', // manual runs, re-runs
  'run:cancel',
  'credential:read', // list credential metadata (never values)
  'credential:write', // create/replace/delete credentials, test connections
  'pack:read', // node types, node packs
  'pack:install', // install/remove/upgrade packs (instance admin only)
  'project:manage', // project members and settings
  'project:create', // create and delete projects (instance admin only)
  'token:manage', // API tokens of a project
  'user:manage', // users and instance roles (instance admin only)
  'audit:read', // audit log (instance admin only)
  'metrics:read', // Prometheus /metrics: every project's flows and the process (instance admin only; scrapers use FLOWCREW_METRICS_TOKEN)
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const VIEWER: Permission[] = ['flow:read', 'run:read', 'credential:read', 'pack:read'];
const OPERATOR: Permission[] = [...VIEWER, 'run:start', 'run:cancel'];
const EDITOR: Permission[] = [...OPERATOR, 'flow:write', 'flow:deploy', 'credential:write'];
const OWNER: Permission[] = [...EDITOR, 'project:manage', 'token:manage'];

/** What each project role may do inside its project. Instance-only permissions are never granted by a project role. */
export const ROLE_PERMISSIONS: Readonly<Record<ProjectRole, ReadonlySet<Permission>>> = {
  owner: new Set(OWNER),
  editor: new Set(EDITOR),
  operator: new Set(OPERATOR),
  viewer: new Set(VIEWER),
};

/** Permissions that only an instance admin holds (they are not scoped to a project). */
export const INSTANCE_ONLY: ReadonlySet<Permission> = new Set<Permission>(['pack:install', 'flow:promote', 'user:manage', 'audit:read', 'project:create', 'metrics:read']);

export const DEFAULT_PROJECT = 'default';

export interface Actor {
  kind: 'user' | 'token' | 'system';
  /** User id, token id, or 'system'. */
  id: string;
  /** For audit entries and logs: username, token name, or 'system'. */
  name: string;
  instanceRole: InstanceRole;
  /** Role per project id. */
  projects: Readonly<Record<string, ProjectRole>>;
  /** An API token's scopes: it can never do more than these, whatever its owner's roles. Undefined = no extra limit. */
  scopes?: ReadonlySet<Permission>;
  /** Where the request came from (IP), for the audit log. */
  from?: string;
  /** How the actor authenticated: 'session', 'token', 'oidc', 'admin-token', 'cli', 'system'. */
  via: string;
}

/** The runtime acting on its own behalf (boot, example flows, resume, triggers). */
export const SYSTEM_ACTOR: Actor = Object.freeze({ kind: 'system', id: 'system', name: 'system', instanceRole: 'admin', projects: {}, via: 'system' });

/** Does `actor` hold `permission` in `projectId` (or instance-wide when projectId is undefined)? */
export function can(actor: Actor, permission: Permission, projectId?: string): boolean {
  if (actor.scopes && !actor.scopes.has(permission)) return false;
  if (actor.instanceRole === 'admin') return true;
  if (INSTANCE_ONLY.has(permission)) return false;
  if (projectId === undefined) return Object.values(actor.projects).some((role) => ROLE_PERMISSIONS[role].has(permission));
  const role = actor.projects[projectId];
  return role !== undefined && ROLE_PERMISSIONS[role].has(permission);
}

/** Projects in which `actor` holds `permission` ('*' = all, for instance admins). */
export function projectsWith(actor: Actor, permission: Permission): '*' | string[] {
  if (actor.scopes && !actor.scopes.has(permission)) return [];
  if (actor.instanceRole === 'admin') return '*';
  return Object.entries(actor.projects)
    .filter(([, role]) => ROLE_PERMISSIONS[role].has(permission))
    .map(([id]) => id);
}
