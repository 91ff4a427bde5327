/**
 * The calling tab's variables inside a library sub-flow, as Node-RED's subflow instance reads them: its own env
 * (the instance's properties), then the flow that holds the instance (its tab variables, NR_FLOW_NAME/ID, and so on
 * up through nested calls), then the sub-flow's own variables (the export's global ones) and the project's.
 *
 * One hidden flow serves every caller and its nodes read variables through the reader they got at deploy, so that
 * reader asks, at each read, which call it is in: the executor runs a called run's node inside `inCalledRun` (an
 * AsyncLocalStorage scope holding the run's caller), and the calling node registers what its callee reads for the
 * duration of the call (`whileCalling`). Nothing here costs anything for runs that were not called.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EnvReader, InputContext } from '@flowcrew/sdk';
import { envText } from '@flowcrew/sdk/util';

/** A calling node in a run (executor/types.ts RunCaller has these and more). */
export interface CallerRef {
  runId: string;
  nodeId: string;
}

const current = new AsyncLocalStorage<CallerRef>();
/** What the callee of each calling node reads, while its calls last (a node may be in several calls at once). */
const calling = new Map<string, { env: EnvReader; calls: number }>();
const keyOf = (caller: CallerRef): string => `${caller.runId}\u0000${caller.nodeId}`;

/** Run a node of a called run (its onInput, and what it awaits) where the variables it reads are its caller's. */
export function inCalledRun<T>(caller: CallerRef, fn: () => T): T {
  return current.run(caller, fn);
}

/**
 * While `call` runs, the run `caller` calls reads `env` (the instance's properties before the calling flow's
 * variables, see `instanceEnv`).
 */
export async function whileCalling<T>(caller: CallerRef, env: EnvReader, call: () => Promise<T>): Promise<T> {
  const key = keyOf(caller);
  const entry = calling.get(key);
  if (entry) entry.calls++;
  else calling.set(key, { env, calls: 1 });
  try {
    return await call();
  } finally {
    const left = calling.get(key)!;
    if (--left.calls === 0) calling.delete(key);
  }
}

/** The variables of a called flow's reader: its caller's first (when it is in a call), then its own. */
interface CalledEnvReader extends EnvReader {
  forCaller(caller: CallerRef | undefined): EnvReader;
}

const layered = (first: EnvReader, then: EnvReader): EnvReader => {
  const value = (name: string): unknown => {
    const found = first.value(name);
    return found === undefined ? then.value(name) : found;
  };
  return { get: (name) => envText(value(name)), value };
};

/** The reader a library sub-flow's hidden flow gives its nodes: `own` outside any call, the caller's first inside one. */
export function calledFlowEnv(own: EnvReader): EnvReader {
  const forCaller = (caller: CallerRef | undefined): EnvReader => {
    const outer = caller && calling.get(keyOf(caller))?.env;
    return outer ? layered(outer, own) : own;
  };
  const reader: CalledEnvReader = {
    get: (name) => forCaller(current.getStore()).get(name),
    value: (name) => forCaller(current.getStore()).value(name),
    forCaller,
  };
  return reader;
}

/**
 * A called run's ctx.context: its env fixed to this call's (a function node's env.get() is answered from its sandbox
 * process's messages, outside the node's async scope).
 */
export function contextInCalledRun(context: InputContext['context'], caller: CallerRef): InputContext['context'] {
  const env = context.env as Partial<CalledEnvReader> | undefined;
  return env?.forCaller ? { ...context, env: env.forCaller(caller) } : context;
}

/**
 * What the callee of a library sub-flow node reads: the node's properties (a Node-RED subflow instance's env, its
 * definition's defaults filled in) and NR_SUBFLOW_NAME / NR_SUBFLOW_ID, then `callerEnv` (the calling flow's
 * variables as this call sees them: ctx.context.env).
 */
export function instanceEnv(props: Record<string, unknown>, instance: { id: string; name: string }, callerEnv: EnvReader | undefined): EnvReader {
  const own = new Map<string, unknown>(Object.entries(props));
  // Node-RED: the instance's name (unset when it has none) and id, before the instance's own variables.
  if (instance.name) own.set('NR_SUBFLOW_NAME', instance.name);
  else own.delete('NR_SUBFLOW_NAME');
  own.set('NR_SUBFLOW_ID', instance.id);
  const value = (name: string): unknown => {
    if (name === 'NR_SUBFLOW_NAME' && !instance.name) return undefined;
    const found = own.get(name);
    if (found !== undefined) return found !== null && typeof found === 'object' ? structuredClone(found) : found;
    return callerEnv?.value(name.startsWith('$parent.') ? name.slice('$parent.'.length) : name);
  };
  return { get: (name) => envText(value(name)), value };
}
