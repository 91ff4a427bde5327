/**
 * `@flowcrew/sdk/util`: the message helpers every core node uses, public so a third-party pack has the same powers
 * (Node-RED's RED.util): property paths with Node-RED's exact semantics, flow/global context paths, typed values
 * (str, num, msg, flow, jsonata, env, ...), JSONata with Node-RED's extra functions, regexes in linear time, and the
 * host limits (time, depth, size, memory) every evaluation in the runtime's process runs under.
 */
export {
  normalisePropertyExpression,
  canonicalPropertyExpression,
  assertPropertyExpression,
  getObjectProperty,
  setObjectProperty,
  getMessageProperty,
  getMessagePropertyOrUndefined,
  setMessageProperty,
  parseContextKey,
  contextKey,
  getContextValue,
  setContextValue,
  type PathPart,
} from './property.ts';
export { cloneMessage, generateId, ensureString, hasOwn } from './message.ts';
export { compileJsonata, prepareTypedValue, type CompiledExpression, type ContextScopes, type TypedValue } from './expressions.ts';
export { evaluateEnv, envReader, envText, substituteEnvProps, type EnvReader } from './env.ts';
export { DEFAULT_LIMITS, hostLimits, readLimits, LimitExceededError, limitVariable, checkStringLength, TimeSlicer, EvaluationBudget, type HostLimits } from './limits.ts';
export { SizeMeter, checkDepth, jsonTextTooDeep, type ValueSize } from './value-size.ts';
export { SafeRegExp, jsonataRegexEngine } from './safe-regex.ts';
export { compileLimited, evaluateWithLimits } from './jsonata-limits.ts';
