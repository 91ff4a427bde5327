/**
 * A flow's own variables (FlowDocument.env, Node-RED's tab env) evaluated at each deploy as Node-RED evaluates a
 * tab's env when the flow starts (@node-red/runtime flows/util.js evaluateEnvProperties): num → number, bool → true
 * only for "true", json → parsed, bin → Buffer, re, date, jsonata evaluated once, env → another variable (the same
 * tab's, evaluated first; its own name or one the tab lacks → the project's). A value that fails to evaluate is left
 * unset with a warning naming the flow and the variable, as Node-RED logs an error and starts the flow without it.
 */
import type { ContextStore, EnvReader, Logger } from '@flowcrew/sdk';
import { envText, evaluateEnv, prepareTypedValue } from '@flowcrew/sdk/util';
import type { FlowContexts } from '../executor/types.ts';
import type { FlowDocument } from '../flow/types.ts';
import { calledFlowEnv } from '../subflows/caller-env.ts';
import { isHiddenSubflowFlow } from '../subflows/definition.ts';
import { passthroughMatcher } from './passthrough.ts';

/** Where no context is at hand (a flow checked or tested outside a runtime): say so, never read nothing. */
const noContext = (scope: string): ContextStore => {
  const refuse = (): never => {
    throw new Error(`$${scope}Context() cannot be used in a flow variable (it is evaluated at deploy, before any context)`);
  };
  return { get: refuse, set: refuse, keys: refuse };
};

/** A copy per read, as Node-RED clones an object variable: a node changing what it read changes nothing else. */
const copy = (value: unknown): unknown => {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  return value !== null && typeof value === 'object' && !(value instanceof RegExp) ? structuredClone(value) : value;
};

/**
 * A reader: the flow's name and id (NR_FLOW_NAME, NR_FLOW_ID), its own variables evaluated now, then `parent`.
 * A `jsonata` variable reads the flow's and global context as they are at this deploy (`$flowContext`,
 * `$globalContext`), as Node-RED's evaluateEnvProperties gives it the tab's context at flow start.
 */
export async function flowEnvReader(flow: FlowDocument, parent: EnvReader, log: Logger, deployContexts?: FlowContexts): Promise<EnvReader> {
  const own = new Map<string, unknown>();
  const references: Array<[string, string]> = [];
  // While these evaluate the tab's other variables are not readable yet (Node-RED: $env() in a jsonata one reads the parent's).
  const contexts = { flow: deployContexts?.flow ?? noContext('flow'), global: deployContexts?.global ?? noContext('global'), env: parent };
  for (const [name, variable] of Object.entries(flow.env ?? {})) {
    if (typeof variable === 'string') own.set(name, variable);
    else if (variable.type === 'env') references.push([name, variable.value]);
    else if (variable.type === 'bool') own.set(name, variable.value === 'true');
    else {
      try {
        own.set(name, await prepareTypedValue(variable.value, variable.type, contexts, `flow variable ${name}`).get(undefined));
      } catch (error) {
        own.set(name, undefined);
        log.warn(`flow "${flow.id}": variable ${name} (${variable.type}) could not be evaluated, it is left unset: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  // Node-RED answers these before the tab's own variables.
  own.set('NR_FLOW_NAME', flow.name).set('NR_FLOW_ID', flow.id);
  /** Node-RED's getSetting: `$parent.NAME` skips the flow's own variables. */
  const read = (from: Map<string, unknown>) => (name: string): unknown => {
    if (name.startsWith('$parent.')) return parent.value(name.slice('$parent.'.length));
    return from.has(name) ? copy(from.get(name)) : parent.value(name);
  };
  // env references last, in order: they may name the tab's other variables, earlier references included; one naming
  // itself reads the parent's (node-red#2099).
  const evaluated = new Map(own);
  const readEvaluated = read(evaluated);
  const reader: EnvReader = { get: (n) => envText(readEvaluated(n)), value: readEvaluated };
  for (const [name, value] of references) evaluated.set(name, value === name ? parent.value(name) : evaluateEnv(value, reader));
  const valueOf = read(evaluated);
  const env: EnvReader = { get: (name) => envText(valueOf(name)), value: valueOf };
  // A library sub-flow's hidden flow serves every caller: inside a call, the calling node's and flow's variables first.
  return isHiddenSubflowFlow(flow.id) ? calledFlowEnv(env) : env;
}

/**
 * The executor's `environment` option where there are no project variables (a runtime without SQL storage, the test
 * sandbox of `flowcrew test` on flow files, pinned runs): the flow's own variables, then the names the administrator
 * passed through; nothing else of the host's environment.
 */
export function flowVariablesOnly(parts: { passthrough?: readonly string[]; log: Logger; processEnv?: NodeJS.ProcessEnv }): (flow: FlowDocument, contexts?: FlowContexts) => Promise<{ env: EnvReader; secrets: string[] }> {
  const allowed = passthroughMatcher(parts.passthrough ?? []);
  const processEnv = parts.processEnv ?? process.env;
  const parent: EnvReader = { get: (name) => (allowed(name) ? processEnv[name] : undefined), value: (name) => parent.get(name) };
  return async (flow, contexts) => ({ env: await flowEnvReader(flow, parent, parts.log, contexts), secrets: [] });
}
