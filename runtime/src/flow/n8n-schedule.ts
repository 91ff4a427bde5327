/**
 * n8n's Schedule Trigger → cron nodes (one per interval), with n8n's defaults for what an export leaves out; an
 * interval of N hours, days, weeks or months followed by n8n's recurrence check (a function node). n8n builds a cron
 * per interval too (n8n-nodes-base Schedule/GenericFunctions toCronExpression); compared in
 * n8n-nodes.test.ts with what its own code makes of each interval (fixtures/n8n/schedules.json).
 */
import type { FlowNode } from './types.ts';
import { UnmappedN8nNode, type N8nNode, type Translation } from './n8n-nodes.ts';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

export function scheduleTrigger(n: N8nNode, base: Partial<FlowNode>): Translation {
  const rule = isObject(n.parameters?.rule) ? n.parameters!.rule as Record<string, unknown> : {};
  const intervals = Array.isArray(rule.interval) && rule.interval.length ? rule.interval.filter(isObject) : [{ field: 'days' }];
  const nodes: FlowNode[] = [];
  const outputs: Array<{ nodeId: string; port: number }> = [];
  intervals.forEach((interval, i) => {
    const id = i === 0 ? base.id! : `${base.id}-${i}`;
    const name = intervals.length > 1 ? `${n.name} (${i + 1})` : n.name;
    const cron: FlowNode = { ...base, id, type: 'cron', name, props: { expression: cronFor(interval) } };
    nodes.push(cron);
    const every = recurrence(interval);
    if (!every) { outputs.push({ nodeId: id, port: 0 }); return; }
    // n8n's recurrence check after its cron: the first firing, then those at least N units after the last one let through.
    const filter: FlowNode = { id: `${id}-every`, type: 'function', name: `${name}: every ${every.size} ${every.unit}`, position: { x: (base.position?.x ?? 0) + 40, y: (base.position?.y ?? 0) + 80 }, props: { func: recurrenceFilter(every.unit, every.size), outputs: 1 } };
    cron.wires = [[filter.id]];
    nodes.push(filter);
    outputs.push({ nodeId: filter.id, port: 0 });
  });
  return { nodes, entries: [], outputs: [outputs], trigger: 'other', notes: [] };
}

type Unit = 'hours' | 'days' | 'weeks' | 'months';

/** n8n's intervalToRecurrence: an hours, days, weeks or months interval other than 1 is filtered after its cron. */
function recurrence(interval: Record<string, unknown>): { unit: Unit; size: number } | undefined {
  const field = String(interval.field ?? 'days');
  if (field !== 'hours' && field !== 'days' && field !== 'weeks' && field !== 'months') return undefined;
  const size = interval[`${field}Interval`];
  return typeof size === 'number' && size !== 1 ? { unit: field, size } : undefined;
}

/** The unit number of a local time, counted from 1970 (a week starts on Sunday, as n8n's moment weeks). */
const UNIT_NOW: Record<Unit, string> = {
  hours: 'Math.floor(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate(), now.getHours()) / 3600000)',
  days: 'Math.round(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) / 86400000)',
  weeks: 'Math.floor((Math.round(Date.UTC(now.getFullYear(), now.getMonth(), now.getDate()) / 86400000) + 4) / 7)',
  months: 'now.getFullYear() * 12 + now.getMonth()',
};

/**
 * A function node's code letting a firing through as n8n's recurrenceCheck does: the first one, then one at least
 * `size` units after the last let through (for weeks also another day of the same week). The last one is kept in
 * the node's context, so the count survives a restart (n8n keeps it in the workflow's static data).
 */
export function recurrenceFilter(unit: Unit, size: number): string {
  return [
    `// n8n Schedule Trigger: every ${size} ${unit}, counted from the last run let through`,
    'const now = new Date();',
    `const current = ${UNIT_NOW[unit]};`,
    "const last = context.get('lastRun');",
    `if (typeof last === 'number' && current - last < ${size}${unit === 'weeks' ? ' && current !== last' : ''}) return null;`,
    "context.set('lastRun', current);",
    'return msg;',
  ].join('\n');
}

function cronFor(interval: Record<string, unknown>): string {
  const num = (key: string, fallback: number) => (typeof interval[key] === 'number' ? interval[key] as number : fallback);
  const minute = num('triggerAtMinute', 0);
  const hour = num('triggerAtHour', 0);
  // n8n's default interval (the field left out of the export) is "days". Where N does not divide the day or year n8n
  // fires each unit and its recurrence check keeps every Nth (recurrenceFilter); so do we.
  switch (interval.field ?? 'days') {
    case 'cronExpression': return String(interval.expression ?? '');
    case 'seconds': return `*/${num('secondsInterval', 30)} * * * * *`;
    case 'minutes': return `*/${num('minutesInterval', 5)} * * * *`;
    case 'hours': return 24 % num('hoursInterval', 1) === 0 ? `${minute} */${num('hoursInterval', 1)} * * *` : `${minute} * * * *`;
    case 'days': return `${minute} ${hour} * * *`;
    case 'weeks': {
      const days = Array.isArray(interval.triggerAtDay) && interval.triggerAtDay.length ? interval.triggerAtDay.join(',') : '0';
      return `${minute} ${hour} * * ${days}`;
    }
    case 'months': return 12 % num('monthsInterval', 1) === 0 ? `${minute} ${hour} ${num('triggerAtDayOfMonth', 1)} */${num('monthsInterval', 1)} *` : `${minute} ${hour} ${num('triggerAtDayOfMonth', 1)} * *`;
    default: throw new UnmappedN8nNode(`schedule interval "${String(interval.field)}" is not translated`);
  }
}
