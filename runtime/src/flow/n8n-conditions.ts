/**
 * n8n conditions (IF, Switch rules, Filter) → one JSONata boolean expression. Covers the filter-parameter format of
 * IF v2+, Switch v3+ and Filter v2+ (`{ conditions: [{ leftValue, rightValue, operator: { type, operation } }],
 * combinator, options: { caseSensitive } }`) and IF v1's `{ string|number|boolean|dateTime: [{ value1, operation,
 * value2 }] }` with `combineOperation`.
 */
import { translateParameter, UntranslatableExpression, type NodeRefs } from './n8n-expressions.ts';

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A condition operand: an "=..." expression, or a literal written as JSONata. */
function operand(value: unknown, refs: NodeRefs): string {
  const t = translateParameter(value, refs);
  if ('jsonata' in t) return `(${t.jsonata})`;
  return t.literal === undefined ? 'undefined' : JSON.stringify(t.literal);
}

function regexLiteral(pattern: string): string {
  // n8n takes "/body/flags" or a bare body.
  const m = /^\/(.*)\/([gimsuy]*)$/s.exec(pattern);
  const body = m ? m[1]! : pattern;
  const flags = (m ? m[2]! : '').replace(/[^im]/g, ''); // JSONata regexes accept i and m
  return `/${body.replace(/\//g, '\\/')}/${flags}`;
}

const empty = (x: string) => `($not($exists(${x})) or ${x} = null or ${x} = "" or ($type(${x}) = "array" and $count(${x}) = 0) or ($type(${x}) = "object" and $count($keys(${x})) = 0))`;

/**
 * n8n's "convert types where required" (loose type validation): a numeric string compares as a number, a number or
 * boolean as its text, "true"/"false" as booleans; anything else is compared as it is.
 */
function loosely(type: string, x: string): string {
  if (type === 'number') return `($v := ${x}; $type($v) = "string" and $contains($v, /^\\s*[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?\\s*$/) ? $number($v) : $v)`;
  if (type === 'string') return `($v := ${x}; $type($v) = "number" or $type($v) = "boolean" ? $string($v) : $v)`;
  if (type === 'boolean') return `($v := ${x}; $v = "true" ? true : $v = "false" ? false : $v)`;
  return x;
}

/** One filter-format condition. */
function filterCondition(cond: Record<string, unknown>, caseSensitive: boolean, refs: NodeRefs, loose = false): string {
  const op = isObject(cond.operator) ? cond.operator : {};
  const type = String(op.type ?? 'string');
  const operation = String(op.operation ?? 'equals');
  let left = operand(cond.leftValue, refs);
  let right = operand(cond.rightValue, refs);
  if (loose) [left, right] = [loosely(type, left), loosely(type, right)];
  if (type === 'string' && !caseSensitive) { left = `$lowercase(${left})`; right = `$lowercase(${right})`; }
  if (type === 'dateTime') { left = `$toMillis($string(${left}))`; right = `$toMillis($string(${right}))`; }
  switch (operation) {
    case 'exists': return `$exists(${left})`;
    case 'notExists': return `$not($exists(${left}))`;
    case 'empty': return empty(left);
    case 'notEmpty': return `$not(${empty(left)})`;
    case 'equals': return `(${left} = ${right})`;
    case 'notEquals': return `(${left} != ${right})`;
    case 'gt': case 'after': case 'lengthGt': return operation === 'lengthGt' ? `($count(${left}) > ${right})` : `(${left} > ${right})`;
    case 'lt': case 'before': case 'lengthLt': return operation === 'lengthLt' ? `($count(${left}) < ${right})` : `(${left} < ${right})`;
    case 'gte': case 'afterOrEquals': case 'lengthGte': return operation === 'lengthGte' ? `($count(${left}) >= ${right})` : `(${left} >= ${right})`;
    case 'lte': case 'beforeOrEquals': case 'lengthLte': return operation === 'lengthLte' ? `($count(${left}) <= ${right})` : `(${left} <= ${right})`;
    case 'lengthEquals': return `($count(${left}) = ${right})`;
    case 'lengthNotEquals': return `($count(${left}) != ${right})`;
    case 'true': return `(${left} = true)`;
    case 'false': return `(${left} = false)`;
    case 'contains': return type === 'array' ? `(${right} in ${left})` : `$contains($string(${left}), $string(${right}))`;
    case 'notContains': return type === 'array' ? `$not(${right} in ${left})` : `$not($contains($string(${left}), $string(${right})))`;
    case 'startsWith': return `($substring($string(${left}), 0, $length(${right})) = ${right})`;
    case 'notStartsWith': return `($substring($string(${left}), 0, $length(${right})) != ${right})`;
    case 'endsWith': return `($substring($string(${left}), -$length(${right})) = ${right})`;
    case 'notEndsWith': return `($substring($string(${left}), -$length(${right})) != ${right})`;
    case 'regex': case 'notRegex': {
      if (typeof cond.rightValue !== 'string' || cond.rightValue.startsWith('=')) throw new UntranslatableExpression('a regex condition whose pattern is an expression');
      const test = `$contains($string(${left}), ${regexLiteral(cond.rightValue)})`;
      return operation === 'regex' ? test : `$not(${test})`;
    }
    default:
      throw new UntranslatableExpression(`condition operation "${type}: ${operation}" is not translated`);
  }
}

/** IF v1 operations, by n8n's names. */
const V1_OPERATIONS: Record<string, string> = {
  equal: 'equals', notEqual: 'notEquals', smaller: 'lt', smallerEqual: 'lte', larger: 'gt', largerEqual: 'gte',
  isEmpty: 'empty', isNotEmpty: 'notEmpty', contains: 'contains', notContains: 'notContains', startsWith: 'startsWith',
  notStartsWith: 'notStartsWith', endsWith: 'endsWith', notEndsWith: 'notEndsWith', regex: 'regex', notRegex: 'notRegex',
  after: 'after', before: 'before',
};

/** The `conditions` parameter of IF/Switch/Filter, any version, as one JSONata boolean. */
export function translateConditions(parameters: Record<string, unknown>, refs: NodeRefs, conditionsKey = 'conditions'): string {
  const conditions = parameters[conditionsKey];
  if (isObject(conditions) && Array.isArray(conditions.conditions)) {
    const options = isObject(conditions.options) ? conditions.options : {};
    const caseSensitive = options.caseSensitive !== false;
    const loose = options.typeValidation === 'loose' || parameters.looseTypeValidation === true;
    const parts = conditions.conditions.filter(isObject).map((c) => filterCondition(c, caseSensitive, refs, loose));
    const joiner = conditions.combinator === 'or' ? ' or ' : ' and ';
    return parts.length ? `(${parts.join(joiner)})` : 'true';
  }
  if (isObject(conditions)) {
    const parts: string[] = [];
    for (const type of ['string', 'number', 'boolean', 'dateTime']) {
      const list = conditions[type];
      if (!Array.isArray(list)) continue;
      for (const c of list.filter(isObject)) {
        const operation = V1_OPERATIONS[String(c.operation ?? 'equal')];
        if (!operation) throw new UntranslatableExpression(`IF v1 operation "${String(c.operation)}" is not translated`);
        parts.push(filterCondition({ leftValue: c.value1, rightValue: c.value2, operator: { type, operation } }, true, refs));
      }
    }
    const joiner = parameters.combineOperation === 'any' ? ' or ' : ' and ';
    return parts.length ? `(${parts.join(joiner)})` : 'true';
  }
  return 'true';
}
