/**
 * docker/'s monitoring files as the tests read them: the Grafana dashboards' panels and the Prometheus alert rules, and
 * the metric names their PromQL queries, to check against what a real runtime exports on /metrics
 * (monitoring-config.test.ts for an embedded runtime, queue-mode.test.ts for a queue-mode main and worker).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export const dockerDir = path.resolve(import.meta.dirname, '..', '..', '..', 'docker');
export const alertsFile = path.join(dockerDir, 'prometheus', 'alerts.yml');
const dashboardsDir = path.join(dockerDir, 'grafana', 'dashboards');

export interface Panel {
  title: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr: string; datasource?: { uid?: string } }>;
}

interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
  templating?: { list: Array<{ name: string; query?: { query?: string } | string }> };
}

export const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(dashboardsDir, file), 'utf8')) as Dashboard }));

/** Every PromQL expression of the dashboards' panels, with where it is. */
export const panelQueries = dashboards.flatMap(({ file, json }) => json.panels.flatMap((panel) => (panel.targets ?? []).map((t) => ({ where: `${file} "${panel.title}"`, expr: t.expr }))));

export const alertRules = (YAML.parse(readFileSync(alertsFile, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);

/** PromQL words that are not metric names where they stand without a "(" after them (aggregations before by/without). */
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2', 'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio']);

/**
 * Metric names in a PromQL expression: every identifier left once strings, label matchers, ranges (Grafana's
 * $__rate_interval too), label lists of by/without/on/ignoring/group_*, function calls and PromQL's words are taken out.
 */
export function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '$1()');
  const names = [...bare.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)\b(?!\s*\()/g)].map((m) => m[1]!);
  return [...new Set(names.filter((name) => !PROMQL_WORDS.has(name)))];
}

/** Every metric a dashboard panel, a dashboard variable (label_values) or an alert rule queries, with where (Prometheus' own `up` left out). */
export function queriedMetrics(): Array<{ where: string; name: string }> {
  const fromPanels = panelQueries.flatMap(({ where, expr }) => metricNames(expr).map((name) => ({ where, name })));
  const fromVariables = dashboards.flatMap(({ file, json }) =>
    (json.templating?.list ?? []).flatMap((v) => {
      const query = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const metric = /^label_values\(\s*([a-zA-Z_:][\w:]*)\s*,/.exec(query)?.[1];
      return metric ? [{ where: `${file} variable $${v.name}`, name: metric }] : [];
    }),
  );
  const fromAlerts = alertRules.flatMap((rule) => metricNames(rule.expr).map((name) => ({ where: `alert ${rule.alert}`, name })));
  return [...fromPanels, ...fromVariables, ...fromAlerts].filter((q) => q.name !== 'up');
}

/** The metric families of a /metrics text: name → type. */
export function metricTypes(text: string): Map<string, string> {
  return new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}

/** A series name as exported: histogram samples are <name>_bucket/_sum/_count of the histogram <name>. */
export function isExported(name: string, types: Map<string, string>): boolean {
  if (types.has(name)) return true;
  const base = name.replace(/_(bucket|sum|count)$/, '');
  return base !== name && (types.get(base) === 'histogram' || types.get(base) === 'summary');
}
