/**
 * JSON and YAML parsing of message content under the host limits: a parsed value must be no larger and no deeper
 * than a message may be, so that nothing downstream (a deep copy, JSON.stringify of the run record, the next
 * node) overflows the stack or expands a few kilobytes of YAML aliases into gigabytes ("billion laughs").
 */
import type { LoadOptions } from 'js-yaml';
import { jsYaml } from './libs.ts';
import { checkStringLength, hostLimits, LimitExceededError, limitVariable, type HostLimits } from '@flowcrew/sdk/util';
import { checkDepth, jsonTextTooDeep, SizeMeter } from '@flowcrew/sdk/util';

function tooDeep(what: string, limits: HostLimits): LimitExceededError {
  return new LimitExceededError(`${what} is nested more than ${limits.maxDepth} levels deep`, { name: 'maxDepth', value: limits.maxDepth, variable: limitVariable('maxDepth') });
}

/**
 * JSON.parse for message content: the text within the string limit and nested at most `maxDepth` deep (JSON.parse
 * itself accepts any depth, which the runtime's recursive code then cannot handle). Syntax errors are JSON.parse's.
 */
export function parseJsonLimited(text: string, what = 'The JSON', limits: HostLimits = hostLimits): unknown {
  checkStringLength(text.length, what, limits);
  if (jsonTextTooDeep(text, limits.maxDepth)) throw tooDeep(what, limits);
  return JSON.parse(text);
}

/**
 * js-yaml's load (Node-RED's YAML parser) for message content. js-yaml turns an alias into a second reference to
 * the anchored value, so the parsed value is measured as it would be written out: too many values (the alias
 * expansion of a "billion laughs" document), too many characters or too deep fails here, in milliseconds.
 */
export function parseYamlLimited(text: string, what = 'The YAML document', limits: HostLimits = hostLimits): unknown {
  checkStringLength(text.length, what, limits);
  let value: unknown;
  try {
    // js-yaml stops at its own maxDepth (100 by default) before its recursion could overflow the stack.
    value = jsYaml().load(text, { maxDepth: limits.maxDepth + 1 } as LoadOptions); // maxDepth: js-yaml 4.3, not in its types yet
  } catch (error) {
    if (error instanceof RangeError || (error instanceof jsYaml().YAMLException && error.reason.startsWith('nesting exceeded maxDepth'))) throw tooDeep(what, limits);
    throw error;
  }
  if (value !== null && typeof value === 'object') checkDepth(new SizeMeter(limits, what).measure(value), what, limits);
  return value;
}
