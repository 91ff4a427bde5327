/**
 * Environment variables of a flow, with Node-RED's semantics: the `env` typed value (`NAME`, `${NAME}`,
 * `a${NAME}b`), `$env(name)` in JSONata and `${NAME}` as a whole node property. Where the values come from is the
 * host's business (Flowcrew: the project's variables of this environment, then process variables an administrator
 * passed through); a pack only sees this reader, so a third-party node reads them exactly as a core node does.
 */

/** Read-only view of a flow's environment variables. */
export interface EnvReader {
  /** The value as text, or undefined when the variable is not set. */
  get(name: string): string | undefined;
  /**
   * The value with the type Node-RED gives it (a flow variable of type num, bool or json reads as a number, a boolean,
   * parsed JSON — a copy per read), or undefined when not set. Node-RED's `env.get()`, `$env()` and `env` typed values.
   */
  value(name: string): unknown;
}

/** A variable's text: strings as they are, anything else as JSON (a number 3 reads "3"). */
export const envText = (value: unknown): string | undefined => (value === undefined || typeof value === 'string' ? value : Buffer.isBuffer(value) ? value.toString() : JSON.stringify(value));

/** A reader over a fixed map (tests, hosts that resolve variables at deploy); values may be typed (numbers, objects). */
export function envReader(values: Readonly<Record<string, unknown>>): EnvReader {
  const map = new Map(Object.entries(values));
  return {
    get: (name) => envText(map.get(name)),
    value: (name) => {
      const found = map.get(name);
      // A copy per read, as Node-RED clones a JSON variable: a node changing what it read changes nothing else.
      if (Buffer.isBuffer(found)) return Buffer.from(found);
      return found !== null && typeof found === 'object' && !(found instanceof RegExp) ? structuredClone(found) : found;
    },
  };
}

/**
 * Node-RED's `env` typed value (RED.util.evaluateEnvProperty): `NAME` or `${NAME}` reads the variable with its type,
 * `a${NAME}b` is text; unset reads "".
 */
export function evaluateEnv(value: unknown, env?: EnvReader): unknown {
  const text = String(value ?? '');
  const read = (name: string) => {
    const found = env?.value(name);
    return found === undefined ? '' : found;
  };
  if (/^\${[^}]+}$/.test(text)) return read(text.slice(2, -1));
  if (!/\${\S+}/.test(text)) return read(text);
  return text.replace(/\${([^}]+)}/g, (_match, name: string) => String(read(name)));
}

const WHOLE_VARIABLE = /^\$(?:{(\S+)}|\((\S+)\))$/;

/**
 * Node-RED's substitution of node properties at deploy (flowUtil mapEnvVarProperties): a string property that is
 * exactly `${NAME}` (or the old `$(NAME)`) becomes the variable's value when it is set and not empty; anything else,
 * at any depth of objects and arrays, is left as it is. Returns a new object; `props` is not changed.
 */
export function substituteEnvProps<T>(props: T, env: EnvReader): T {
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (value[0] !== '$') return value;
      const match = WHOLE_VARIABLE.exec(value);
      if (!match) return value;
      const found = env.value((match[1] ?? match[2])!);
      return found !== undefined && found !== '' ? found : value;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, inner] of Object.entries(value)) out[key] = walk(inner);
      return out;
    }
    return value;
  };
  return walk(props) as T;
}
