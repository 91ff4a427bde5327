/** The audit log (instance admins): query with filters and paging, or export everything matching. */
import type { AuditExportFormat, AuditQuery } from '../../identity/types.ts';
import { actorOf, arrayOf, ok, ref, reply, type QueryParam, type Route } from '../route-table.ts';

const epoch = (description: string): QueryParam => ({ schema: { type: 'integer', minimum: 0 }, description });
const filters: Record<string, QueryParam> = {
  actorId: { schema: { type: 'string' } },
  action: { schema: { type: 'string' }, description: "Exact action, or a prefix ending in '.' ('auth.')" },
  outcome: { schema: { enum: ['success', 'failure', 'denied'] } },
  targetType: { schema: { type: 'string' } },
  targetId: { schema: { type: 'string' } },
  projectId: { schema: { type: 'string' } },
  since: epoch('Epoch ms, inclusive'),
  until: epoch('Epoch ms, exclusive'),
};

const queryOf = (q: Record<string, unknown>): AuditQuery => {
  const out: Record<string, unknown> = {};
  for (const key of [...Object.keys(filters), 'limit', 'before']) if (q[key] !== undefined) out[key] = q[key];
  return out as AuditQuery;
};

export const auditRoutes: Route[] = [
  {
    method: 'get',
    path: '/audit',
    tag: 'audit',
    summary: 'Audit entries, newest first (who, what, when, from where); page with `before` = the previous `next`',
    access: 'audit:read',
    query: { ...filters, limit: { schema: { type: 'integer', minimum: 1, maximum: 1000 } }, before: { schema: { type: 'string' }, description: 'Cursor' } },
    responses: { '200': ok('A page', { type: 'object', required: ['entries', 'next'], properties: { entries: arrayOf(ref('AuditEntry')), next: { type: ['string', 'null'] } } }) },
    handle: async (ctx) => reply.json(await ctx.services.audit.query(actorOf(ctx), queryOf(ctx.query))),
  },
  {
    method: 'get',
    path: '/audit/export',
    tag: 'audit',
    summary: 'Every audit entry matching the filters, as JSON lines (default) or CSV',
    access: 'audit:read',
    query: { ...filters, format: { schema: { enum: ['jsonl', 'csv'] } } },
    responses: {
      '200': { description: 'The entries, newest first', contentType: ['application/x-ndjson', 'text/csv'], schema: { type: 'string' } },
    },
    handle: (ctx) => {
      const format = (ctx.query.format as AuditExportFormat | undefined) ?? 'jsonl';
      const contentType = format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson';
      return {
        status: 200,
        contentType,
        stream: ctx.services.audit.export(actorOf(ctx), queryOf(ctx.query), format),
        headers: { 'Content-Disposition': `attachment; filename="flowcrew-audit.${format}"`, 'Cache-Control': 'no-store' },
      };
    },
  },
];
