/**
 * n8n's Schedule Trigger → cron nodes (one per interval), with n8n's defaults for what an export leaves out. n8n
 * builds a cron per interval too (n8n-nodes-base Schedule/GenericFunctions toCronExpression); compared in
 * n8n-nodes.test.ts with what its own code makes of each interval (fixtures/n8n/schedules.json).
 */
import type { FlowNode } from './types.ts';
import { UnmappedN8nNode, type N8nNode, type Translation } from './n8n-nodes.ts';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function scheduleTrigger(n: N8nNode, base: Partial<FlowNode>): Translation {
  const rule = isObject(n.parameters?.rule) ? n.parameters!.rule as Record<string, unknown> : {};
  const intervals = Array.isArray(rule.interval) && rule.interval.length ? rule.interval.filter(isObject) : [{ field: 'days' }];
  const notes: string[] = [];
  const nodes = intervals.map((interval, i) => {
    const expression = cronFor(interval);
    const drift = countedFromLastRun(interval);
    if (drift) notes.push(`Schedule "${n.name}": ${drift}`);
    return { ...base, id: i === 0 ? base.id! : `${base.id}-${i}`, type: 'cron', name: intervals.length > 1 ? `${n.name} (${i + 1})` : n.name, props: { expression } } as FlowNode;
  });
  return { nodes, entries: [], outputs: [nodes.map((x) => ({ nodeId: x.id, port: 0 }))], trigger: 'other', notes };
}

/**
 * n8n runs "every N days" (and N hours or months that do not divide a day or a year) as a cron that fires more often,
 * filtered to N units after its last run; a cron here restarts the count each month (day or year): said, not hidden.
 */
function countedFromLastRun(interval: Record<string, unknown>): string | undefined {
  const every = (key: string) => (typeof interval[key] === 'number' ? interval[key] as number : 1);
  if (interval.field === 'days' && every('daysInterval') > 1) return `every ${every('daysInterval')} days runs on days 1, ${1 + every('daysInterval')}, ... of each month (n8n: ${every('daysInterval')} days after its last run)`;
  if (interval.field === 'hours' && 24 % every('hoursInterval') !== 0) return `every ${every('hoursInterval')} hours restarts at midnight (n8n: ${every('hoursInterval')} hours after its last run)`;
  if (interval.field === 'months' && 12 % every('monthsInterval') !== 0) return `every ${every('monthsInterval')} months restarts in January (n8n: ${every('monthsInterval')} months after its last run)`;
  return undefined;
}

function cronFor(interval: Record<string, unknown>): string {
  const num = (key: string, fallback: number) => (typeof interval[key] === 'number' ? interval[key] as number : fallback);
  const minute = num('triggerAtMinute', 0);
  const hour = num('triggerAtHour', 0);
  // n8n's default interval (the field left out of the export) is "days".
  switch (interval.field ?? 'days') {
    case 'cronExpression': return String(interval.expression ?? '');
    case 'seconds': return `*/${num('secondsInterval', 30)} * * * * *`;
    case 'minutes': return `*/${num('minutesInterval', 5)} * * * *`;
    case 'hours': return `${minute} */${num('hoursInterval', 1)} * * *`;
    case 'days': return `${minute} ${hour} */${num('daysInterval', 1)} * *`;
    case 'weeks': {
      if (num('weeksInterval', 1) !== 1) throw new UnmappedN8nNode('a schedule every N > 1 weeks has no cron equivalent');
      const days = Array.isArray(interval.triggerAtDay) && interval.triggerAtDay.length ? interval.triggerAtDay.join(',') : '0';
      return `${minute} ${hour} * * ${days}`;
    }
    case 'months': return `${minute} ${hour} ${num('triggerAtDayOfMonth', 1)} */${num('monthsInterval', 1)} *`;
    default: throw new UnmappedN8nNode(`schedule interval "${String(interval.field)}" is not translated`);
  }
}
