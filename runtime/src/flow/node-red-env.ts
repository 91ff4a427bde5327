/**
 * A Node-RED tab's environment variables (its `env` list) as the flow's own variables (FlowDocument.env), which the
 * flow reads before its project's variables — as Node-RED reads a flow's env before the global one — through `env`
 * typed values, `$env()` in JSONata, `${NAME}` properties and the function node's `env.get()`.
 */
import type { PropertyNote } from './node-red-values.ts';
import { envEntries } from './node-red-subflows.ts';

type Note = Omit<PropertyNote, 'nodeId' | 'type' | 'flowId'>;

/** Variables are text here; Node-RED reads these types as their value, which has the same text. */
const AS_TEXT = new Set(['num', 'bool', 'json']);

/** The tab's env as a name → text map (undefined when it has none), each entry reported. */
export function tabEnv(env: unknown, note: (n: Note) => void): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [i, entry] of envEntries(env).entries()) {
    const type = entry.type ?? 'str';
    const text = typeof entry.value === 'string' ? entry.value : entry.value === undefined ? '' : JSON.stringify(entry.value);
    if (type === 'str') {
      out[entry.name] = text;
      note({ property: `/env/${i}`, action: 'translated', from: entry, to: text, reason: `a variable of the flow: ${entry.name}` });
    } else if (AS_TEXT.has(type)) {
      out[entry.name] = text;
      note({ property: `/env/${i}`, action: 'translated', from: entry, to: text, reason: `a variable of the flow, as text: Node-RED's env.get()/$env() give it as a ${type === 'json' ? 'parsed JSON value' : type === 'num' ? 'number' : 'boolean'}, Flowcrew's as its text` });
    } else if (type === 'cred') {
      note({ property: `/env/${i}`, action: 'dropped', from: entry.name, reason: 'a credential variable: Node-RED exports no credentials; add it as a secret variable of the project' });
    } else {
      note({ property: `/env/${i}`, action: 'dropped', from: entry, reason: `a "${type}" variable is evaluated by Node-RED (env, jsonata, ...); Flowcrew's flow variables are plain values: set ${entry.name} as a project variable` });
    }
  }
  return Object.keys(out).length > 0 ? out : undefined;
}
