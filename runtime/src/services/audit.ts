/**
 * The audit log as services use it: they record what they changed (flows, credentials; the identity stores record
 * user, project and token changes themselves), and admins query and export it.
 */
import type { ProblemError } from '../errors.ts';
import { can, type Actor, type Permission } from '../identity/actor.ts';
import type { AuditLog } from '../identity/audit.ts';
import type { AuditExportFormat, AuditPage, AuditQuery } from '../identity/types.ts';
import { forbidden, requirePermission } from './access.ts';

export class AuditService {
  constructor(private readonly log: AuditLog) {}

  /** Records a change that succeeded. Resolves when the entry is committed. */
  async record(actor: Actor, action: string, target: { type: string; id: string }, projectId?: string, detail?: Record<string, unknown>): Promise<void> {
    await this.log.record(actor, { action, outcome: 'success', target, projectId, detail });
  }

  /** Records a change that was attempted and failed (nothing changed), with why. */
  async failed(actor: Actor, action: string, target: { type: string; id: string }, projectId?: string, detail?: Record<string, unknown>): Promise<void> {
    await this.log.record(actor, { action, outcome: 'failure', target, projectId, detail });
  }

  /**
   * Identity changes refused for lack of permission are worth an entry (someone probing for admin powers): records
   * it and returns the 403 to throw.
   */
  async denied(actor: Actor, action: string, detail: string, target?: { type: string; id: string }, projectId?: string): Promise<ProblemError> {
    await this.log.record(actor, { action, outcome: 'denied', target, projectId, detail: { reason: detail } });
    return forbidden(detail);
  }

  /** A request the router refused before any service ran (no permission anywhere), on an identity route. */
  async routeDenied(actor: Actor, route: string, reason: string): Promise<void> {
    await this.log.record(actor, { action: 'access.denied', outcome: 'denied', target: { type: 'route', id: route }, detail: { reason } });
  }

  /** `permission` (in `projectId` when given), or an audited 403. */
  async require(actor: Actor, permission: Permission, action: string, target?: { type: string; id: string }, projectId?: string): Promise<void> {
    if (can(actor, permission, projectId)) return;
    throw await this.denied(actor, action, `this needs the ${permission} permission${projectId ? ` in project "${projectId}"` : ''}, which you do not hold`, target, projectId);
  }

  async query(actor: Actor, query: AuditQuery): Promise<AuditPage> {
    requirePermission(actor, 'audit:read');
    return this.log.query(query);
  }

  /** Text chunks to stream (JSON lines or CSV); the permission is checked before the first one. */
  export(actor: Actor, query: AuditQuery, format: AuditExportFormat): AsyncGenerator<string> {
    requirePermission(actor, 'audit:read');
    return this.log.export(query, format);
  }
}
