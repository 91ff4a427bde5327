/**
 * The calling tab's variables inside a library sub-flow, as Node-RED's subflow instance reads them: its own env
 * (the instance's properties), then the flow that holds the instance (its tab variables, NR_FLOW_NAME/ID, and so on
 * up through nested calls), then the sub-flow's own variables (the export's global ones) and the project's.
 *
 * One hidden flow serves every caller and its nodes read variables through the reader they got at deploy, so that
 * reader asks, at each read, which call it is in: the executor runs a called run's node inside `inCalledRun` (an
 * AsyncLocalStorage scope holding the run's caller), and the caller carries what its callee reads (`env`, made by the
 * calling node at the call). A called run keeps its caller's ids in its stored input (msg.subflow.caller, up through
 * nested calls), so a run resumed after a restart or taken over by another queue worker gets its caller back
 * (`restoredCaller`): the variables are made again from the calling node as deployed there. Nothing here costs
 * anything for runs that were not called.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { EnvReader, InputContext } from '@flowcrew/sdk';
import { envText } from '@flowcrew/sdk/util';

/** What a called run keeps of its caller: the calling node, its flow and run, and that run's own caller (nesting). */
export interface StoredCaller {
  flowId: string;
  nodeId: string;
  runId: string;
  caller?: StoredCaller;
}

/** A called run's caller in memory (executor/types.ts RunCaller and more): with what the callee reads, when known. */
export interface CallerRef {
  flowId: string;
  nodeId: string;
  runId: string;
  /** The instance's properties, then the calling flow's variables as the calling node read them (`instanceEnv`). */
  env?: EnvReader;
  caller?: CallerRef;
}

const current = new AsyncLocalStorage<CallerRef>();
/** Invocations of called runs going on (their onInput, until its promise settles). */
let calledInFlight = 0;
let disableQueued = false;

/**
 * Run a node of a called run (its onInput, and what it awaits) where the variables it reads are its caller's.
 *
 * An AsyncLocalStorage in use keeps Node's async hook on (a promise hook on every promise the process makes, also
 * in runs that were never called): measured, the 10-node chain cost 1.1-1.4x the CPU per node in a process after one
 * sub-flow call (bench/subflow-call.ts). So the storage is turned off again once no invocation of a called run is
 * going on (the hook with it when nothing else uses one); the next call turns it on. Something a called run's node
 * started and left running after its invocation ended (a timer) reads the sub-flow's own variables then.
 */
export function inCalledRun<T>(caller: CallerRef, fn: () => T): T {
  calledInFlight++;
  let result: T;
  try {
    result = current.run(caller, fn);
  } catch (error) {
    calledEnded();
    throw error;
  }
  if (result instanceof Promise) result.then(calledEnded, calledEnded);
  else calledEnded();
  return result;
}

function calledEnded(): void {
  if (--calledInFlight > 0 || disableQueued) return;
  // Not at once: a called run's next hop usually follows within the same turn (no hook off and on per hop).
  disableQueued = true;
  setImmediate(() => {
    disableQueued = false;
    if (calledInFlight === 0) current.disable();
  });
}

/** Whether the storage (and with it Node's async hook, unless something else uses one) is on: for tests. */
export function callerScopeEnabled(): boolean {
  return (current as unknown as { enabled?: boolean }).enabled === true;
}

/** The variables of a called flow's reader: its caller's first (when it is in a call), then its own. */
interface CalledEnvReader extends EnvReader {
  forCaller(caller: CallerRef | undefined): EnvReader;
}

/** A reader as a called run's nodes see it: it knows the run's caller, so a call made from there can pass it on. */
interface CallerEnvReader extends EnvReader {
  caller: CallerRef;
}

const layered = (first: EnvReader | undefined, then: EnvReader, caller: CallerRef): CallerEnvReader => {
  const value = (name: string): unknown => {
    const found = first?.value(name);
    return found === undefined ? then.value(name) : found;
  };
  return { get: (name) => envText(value(name)), value, caller };
};

/** The reader a library sub-flow's hidden flow gives its nodes: `own` outside any call, the caller's first inside one. */
export function calledFlowEnv(own: EnvReader): EnvReader {
  const forCaller = (caller: CallerRef | undefined): EnvReader => (caller ? layered(caller.env, own, caller) : own);
  const reader: CalledEnvReader = {
    get: (name) => forCaller(current.getStore()).get(name),
    value: (name) => forCaller(current.getStore()).value(name),
    forCaller,
  };
  return reader;
}

/** `env` as a called run with `caller` reads it (env itself when it is no called flow's reader). */
function envForCaller(env: EnvReader, caller: CallerRef | undefined): EnvReader {
  const forCaller = (env as Partial<CalledEnvReader>).forCaller;
  return forCaller ? forCaller(caller) : env;
}

/**
 * A called run's ctx.context: its env fixed to this call's (a function node's env.get() is answered from its sandbox
 * process's messages, outside the node's async scope).
 */
export function contextInCalledRun(context: InputContext['context'], caller: CallerRef): InputContext['context'] {
  const env = context.env as Partial<CalledEnvReader> | undefined;
  return env?.forCaller ? { ...context, env: env.forCaller(caller) } : context;
}

/** The caller of the run a node's ctx.context.env belongs to (undefined: the run was not called). */
export function callerOfEnv(env: EnvReader | undefined): CallerRef | undefined {
  return (env as Partial<CallerEnvReader> | undefined)?.caller;
}

/** What a called run stores of `caller`: ids only, up through nested calls. */
export function storedCaller(caller: CallerRef): StoredCaller {
  return { flowId: caller.flowId, nodeId: caller.nodeId, runId: caller.runId, ...(caller.caller ? { caller: storedCaller(caller.caller) } : {}) };
}

/** The caller a called run stored in its input (msg.subflow.caller), if it has a well-formed one. */
export function storedCallerOf(input: unknown): StoredCaller | undefined {
  const caller = (input as { subflow?: { caller?: unknown } } | null | undefined)?.subflow?.caller;
  const valid = (c: unknown, depth: number): c is StoredCaller => {
    if (depth > 64 || c === null || typeof c !== 'object') return false;
    const { flowId, nodeId, runId, caller: parent } = c as Record<string, unknown>;
    return typeof flowId === 'string' && typeof nodeId === 'string' && typeof runId === 'string' && (parent === undefined || valid(parent, depth + 1));
  };
  return valid(caller, 0) ? caller : undefined;
}

/** The flows a stored caller chain names (the calling flows, up through nested calls). */
export function callerFlowIds(stored: StoredCaller): string[] {
  const ids: string[] = [];
  for (let c: StoredCaller | undefined = stored; c; c = c.caller) ids.push(c.flowId);
  return ids;
}

/** Key of the function a library sub-flow node's instance has: what its callee reads, given the calling node's env. */
export const CALLEE_ENV = Symbol.for('flowcrew.subflow.calleeEnv');
export type CalleeEnv = (callerEnv: EnvReader | undefined) => EnvReader;

/** A deployed node as restoredCaller needs it. */
export interface CallingNode {
  instance: object;
  context: InputContext['context'];
}

/**
 * A called run's caller again, from what it stored (a run resumed after a restart, or taken over by a queue worker):
 * the variables its callee reads are made again from the calling nodes as deployed in this process (a calling node
 * no longer deployed: the called flow reads its own variables only; statuses still go up to the caller's flow).
 */
export function restoredCaller(stored: StoredCaller, nodeOf: (flowId: string, nodeId: string) => CallingNode | undefined): CallerRef {
  const parent = stored.caller && restoredCaller(stored.caller, nodeOf);
  const node = nodeOf(stored.flowId, stored.nodeId);
  const calleeEnv = (node?.instance as { [CALLEE_ENV]?: CalleeEnv } | undefined)?.[CALLEE_ENV];
  const callerEnv = node?.context.env && envForCaller(node.context.env, parent);
  return { flowId: stored.flowId, nodeId: stored.nodeId, runId: stored.runId, ...(parent ? { caller: parent } : {}), ...(calleeEnv ? { env: calleeEnv(callerEnv) } : {}) };
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
