/**
 * A Node-RED tab's environment variables (its `env` list) as the flow's own variables (FlowDocument.env), which the
 * flow reads before its project's variables — as Node-RED reads a flow's env before the global one — through `env`
 * typed values, `$env()` in JSONata, `${NAME}` properties and the function node's `env.get()`. Typed entries keep
 * their type and are evaluated at each deploy as Node-RED evaluates them at flow start (variables/flow-env.ts).
 */
import type { FlowVariable, FlowVariableType } from './types.ts';
import type { PropertyNote } from './node-red-values.ts';
import { envEntries } from './node-red-subflows.ts';

type Note = Omit<PropertyNote, 'nodeId' | 'type' | 'flowId'>;

const TYPED = new Set<string>(['num', 'bool', 'json', 'bin', 're', 'date', 'jsonata', 'env'] satisfies FlowVariableType[]);

/** The tab's env as a name → variable map (undefined when it has none), each entry reported. */
export function tabEnv(env: unknown, note: (n: Note) => void): Record<string, FlowVariable> | undefined {
  const out: Record<string, FlowVariable> = {};
  for (const [i, entry] of envEntries(env).entries()) {
    const type = entry.type ?? 'str';
    // Node-RED's editor writes text; a hand-written export may hold the value itself (true, 3, an object).
    const text = typeof entry.value === 'string' ? entry.value : entry.value === undefined ? '' : JSON.stringify(entry.value);
    if (type === 'str') {
      out[entry.name] = text;
      note({ property: `/env/${i}`, action: 'translated', from: entry, to: text, reason: `a variable of the flow: ${entry.name}` });
    } else if (TYPED.has(type)) {
      const variable = { type: type as FlowVariableType, value: text };
      out[entry.name] = variable;
      note({ property: `/env/${i}`, action: 'translated', from: entry, to: variable, reason: `a variable of the flow: ${entry.name}, a "${type}" value evaluated at each deploy as Node-RED evaluates it at flow start` });
    } else if (type === 'cred') {
      note({ property: `/env/${i}`, action: 'dropped', from: entry.name, reason: 'a credential variable: Node-RED exports no credentials; add it as a secret variable of the project' });
    } else {
      note({ property: `/env/${i}`, action: 'dropped', from: entry, reason: `a "${type}" variable has no meaning outside Node-RED's editor here: set ${entry.name} as a project variable` });
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
