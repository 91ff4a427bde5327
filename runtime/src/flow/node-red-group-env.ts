/**
 * Node-RED 3+ groups can have environment variables (`env` on the group), which the nodes inside read before their
 * flow's (nested groups: the innermost first). Flowcrew groups are drawing only, so the import writes each group's
 * variables into the nodes it holds — `${NAME}` properties, `env` typed values, `$env()`, `env.get()` — with the types
 * Node-RED gives them: the nodes answer as in Node-RED; changing a value later means editing those nodes.
 */
import type { PropertyNote } from './node-red-values.ts';
import { substitute, typedVariables, type NrNode, type Variable } from './node-red-inline.ts';
import { envEntries } from './node-red-subflows.ts';

/** Where a subflow instance in a group carries its group's variables to the import (node-red.ts instance properties). */
export const GROUP_ENV = '__flowcrewGroupEnv';

/** The export with the variables of groups written into their nodes (unchanged when no group has any). */
export function applyGroupEnv(items: NrNode[], note: (n: PropertyNote) => void): NrNode[] {
  const groups = new Map(items.filter((n) => n.type === 'group').map((g) => [g.id, g]));
  if (![...groups.values()].some((g) => envEntries(g.env).length > 0)) return items;
  const cache = new Map<string, Map<string, Variable>>();
  /** A group's variables: its parents' first, then its own (the innermost wins). */
  const varsOf = (id: string, seen = new Set<string>()): Map<string, Variable> => {
    if (cache.has(id)) return cache.get(id)!;
    const group = groups.get(id);
    if (!group || seen.has(id)) return new Map();
    seen.add(id);
    const inherited = typeof group.g === 'string' ? new Map(varsOf(group.g, seen)) : new Map<string, Variable>();
    const { vars, skipped } = typedVariables(envEntries(group.env), inherited);
    if (envEntries(group.env).length > 0) {
      note({ nodeId: id, type: 'group', property: '/env', action: 'translated', from: group.env, reason: 'group variables are written into the nodes of the group (Flowcrew groups only draw): changing one later means editing those nodes' });
    }
    if (skipped.length > 0) note({ nodeId: id, type: 'group', property: '/env', action: 'ignored', from: skipped, reason: "variables Node-RED evaluates (env, jsonata, cred, ...) are not written in: their reads go to the flow's variables" });
    cache.set(id, vars);
    return vars;
  };
  return items.map((n) => {
    if (n.type === 'group' || typeof n.g !== 'string') return n;
    const vars = varsOf(n.g);
    if (vars.size === 0) return n;
    // A subflow instance: the nodes inside read the group's variables after the instance's (library sub-flows: GROUP_ENV).
    const substituted = substitute(n, vars);
    return n.type.startsWith('subflow:') ? { ...substituted, [GROUP_ENV]: Object.fromEntries([...vars].map(([name, v]) => [name, v.value])) } : substituted;
  });
}
