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

export const dashboards = readdirSync(dashboardsDir)
  .filter((f) => f.endsWith('.json'))
  .map((file) => ({ file, json: JSON.parse(readFileSync(path.join(dashboardsDir, file), 'utf8')) as { uid: string; title: string; panels: Panel[] } }));

export const alertRules = (YAML.parse(readFileSync(alertsFile, 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> }).groups.flatMap((g) => g.rules);

/** Metric names in a PromQL expression (label names, functions and keywords are not followed by { or a space-less [). */
export function metricNames(expr: string): string[] {
  return [...new Set([...expr.replace(/\{[^}]*\}/g, '{}').matchAll(/\b((?:flowcrew|process|nodejs|up)[a-z0-9_]*)\b/g)].map((m) => m[1]!))];
}

/** Every metric a dashboard panel or an alert rule queries, with where (Prometheus' own `up` left out). */
export function queriedMetrics(): Array<{ where: string; name: string }> {
  const fromPanels = dashboards.flatMap(({ file, json }) =>
    json.panels.flatMap((panel) => (panel.targets ?? []).flatMap((t) => metricNames(t.expr).map((name) => ({ where: `${file} "${panel.title}"`, name })))),
  );
  const fromAlerts = alertRules.flatMap((rule) => metricNames(rule.expr).map((name) => ({ where: `alert ${rule.alert}`, name })));
  return [...fromPanels, ...fromAlerts].filter((q) => q.name !== 'up');
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
