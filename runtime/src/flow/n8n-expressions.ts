/**
 * n8n expressions → JSONata. An n8n parameter whose string starts with "=" is a template: literal text with
 * `{{ javascript }}` parts evaluated against the current item. The JavaScript is parsed (acorn) and the subset n8n
 * workflows use in practice is translated: item paths ($json, $input.item/first(), $('Node'), $node["Node"]),
 * literals, arithmetic, comparisons, logic, ternaries, template strings, object/array literals and the common
 * string/number/array methods. Anything else is reported untranslated (never guessed); the caller keeps the n8n text
 * in the report and makes the node fail with a clear message at run time.
 *
 * Other nodes' outputs: `$('Node')...json` becomes `n8n.Node` on the message; the importer copies that node's
 * output there (see n8n.ts), so a path through the flow sees it as n8n does.
 */
import type { Node as AstNode } from 'acorn';
import { lazyRequire } from '@flowcrew/sdk';

/** acorn (~1 MB of heap with its source) is loaded by the first n8n import that has an expression, not at start. */
const acorn = lazyRequire<typeof import('acorn')>('acorn', import.meta.url);

export class UntranslatableExpression extends Error {}

interface Translated {
  code: string;
  /** Statically known to be a string (decides between `&` and `+`). */
  text?: boolean;
}

/** Node names an expression reads through $('Name') / $node["Name"] (their outputs must be kept on the message). */
export type NodeRefs = Set<string>;

const ITEM = 'payload';

export const quoteJsonataName = (name: string) => (/^[A-Za-z_$][A-Za-z0-9_]*$/.test(name) ? name : '`' + name.replace(/`/g, '') + '`');
const str = (s: string) => JSON.stringify(s);

/** A whole parameter value: "=..." templates become JSONata; other values are returned as they are (`literal`). */
export function translateParameter(value: unknown, refs: NodeRefs): { jsonata: string } | { literal: unknown } {
  if (typeof value !== 'string' || !value.startsWith('=')) return { literal: value };
  return { jsonata: translateTemplate(value.slice(1), refs) };
}

/** `Hello {{ $json.name }}!` → `"Hello " & $string(payload.name) & "!"`; a lone `{{ x }}` keeps x's type. */
export function translateTemplate(template: string, refs: NodeRefs): string {
  const parts: string[] = [];
  let lone: string | undefined;
  let rest = template;
  let count = 0;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open < 0) { parts.push(str(rest)); break; }
    if (open > 0) parts.push(str(rest.slice(0, open)));
    const close = findClose(rest, open + 2);
    if (close < 0) throw new UntranslatableExpression(`unclosed "{{" in ${str(template)}`);
    const code = translateJs(rest.slice(open + 2, close), refs);
    count += 1;
    lone = code.code;
    parts.push(code.text ? code.code : `$string(${code.code})`);
    rest = rest.slice(close + 2);
  }
  if (count === 1 && parts.length === 1 && lone !== undefined) return lone;
  if (parts.length === 0) return '""';
  return parts.join(' & ');
}

/** The `}}` closing a `{{` at `from`, skipping braces and strings inside the JavaScript. */
function findClose(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = from; i < text.length; i++) {
    const c = text[i]!;
    if (quote) { if (c === '\\') i++; else if (c === quote) quote = undefined; continue; }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') { if (depth === 0 && text[i + 1] === '}') return i; depth = Math.max(0, depth - 1); }
  }
  return -1;
}

/** One JavaScript expression (the inside of `{{ }}`) → JSONata. */
export function translateJs(source: string, refs: NodeRefs): Translated {
  let ast: AstNode;
  try {
    ast = acorn().parseExpressionAt(source.trim(), 0, { ecmaVersion: 'latest' });
  } catch (error) {
    throw new UntranslatableExpression(`not a JavaScript expression: ${str(source.trim())} (${(error as Error).message})`);
  }
  if (ast.end < source.trim().length) throw new UntranslatableExpression(`more than one expression in ${str(source.trim())}`);
  return expr(ast as Any, refs);
}

// acorn's ESTree nodes, read structurally.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const BINARY: Record<string, string> = { '-': '-', '*': '*', '/': '/', '%': '%', '<': '<', '<=': '<=', '>': '>', '>=': '>=', '===': '=', '==': '=', '!==': '!=', '!=': '!=' };

function expr(node: Any, refs: NodeRefs): Translated {
  switch (node.type) {
    case 'Literal':
      if (node.regex) throw new UntranslatableExpression(`regular expression literal ${node.raw}`);
      if (node.value === null) return { code: 'null' };
      return typeof node.value === 'string' ? { code: str(node.value), text: true } : { code: JSON.stringify(node.value) };
    case 'TemplateLiteral': {
      const parts: string[] = [];
      node.quasis.forEach((q: Any, i: number) => {
        if (q.value.cooked) parts.push(str(q.value.cooked));
        if (i < node.expressions.length) {
          const e = expr(node.expressions[i], refs);
          parts.push(e.text ? e.code : `$string(${e.code})`);
        }
      });
      return { code: parts.length ? `(${parts.join(' & ')})` : '""', text: true };
    }
    case 'Identifier':
      return identifier(node.name);
    case 'MemberExpression':
      return member(node, refs);
    case 'CallExpression':
      return call(node, refs);
    case 'ChainExpression':
      return expr(node.expression, refs); // JSONata paths are already "optional": a missing step yields nothing
    case 'UnaryExpression': {
      const arg = expr(node.argument, refs);
      if (node.operator === '!') return { code: `$not(${arg.code})` };
      if (node.operator === '-') return { code: `-(${arg.code})` };
      if (node.operator === '+') return { code: `$number(${arg.code})` };
      if (node.operator === 'typeof') return { code: `$type(${arg.code})`, text: true };
      throw new UntranslatableExpression(`operator ${node.operator}`);
    }
    case 'BinaryExpression': {
      const left = expr(node.left, refs);
      const right = expr(node.right, refs);
      if (node.operator === '+') {
        // JavaScript's + concatenates when either side is a string; only what is known to be text is joined.
        if (left.text || right.text) return { code: `(${left.code} & ${right.code})`, text: true };
        if (isNumeric(node.left) && isNumeric(node.right)) return { code: `(${left.code} + ${right.code})` };
        // Types known only at run time (a field of $json): JavaScript's rule, decided then.
        return { code: `(($type(${left.code}) = "string" or $type(${right.code}) = "string") ? $string(${left.code}) & $string(${right.code}) : ${left.code} + ${right.code})` };
      }
      const op = BINARY[node.operator as string];
      if (!op) throw new UntranslatableExpression(`operator ${node.operator}`);
      return { code: `(${left.code} ${op} ${right.code})` };
    }
    case 'LogicalExpression': {
      const left = expr(node.left, refs);
      const right = expr(node.right, refs);
      // `a || b` is n8n's default-value idiom: it yields a value, not a boolean.
      if (node.operator === '||') return { code: `(${left.code} ? ${left.code} : ${right.code})`, text: left.text && right.text };
      if (node.operator === '??') return { code: `($exists(${left.code}) ? ${left.code} : ${right.code})`, text: left.text && right.text };
      return { code: `(${left.code} and ${right.code})` };
    }
    case 'ConditionalExpression': {
      const then = expr(node.consequent, refs);
      const otherwise = expr(node.alternate, refs);
      return { code: `(${expr(node.test, refs).code} ? ${then.code} : ${otherwise.code})`, text: then.text && otherwise.text };
    }
    case 'ObjectExpression': {
      const fields = node.properties.map((p: Any) => {
        if (p.type !== 'Property' || p.kind !== 'init' || p.method) throw new UntranslatableExpression('object spread or method');
        const key = p.computed ? expr(p.key, refs).code : str(p.key.type === 'Identifier' ? p.key.name : String(p.key.value));
        return `${key}: ${expr(p.value, refs).code}`;
      });
      return { code: `{${fields.join(', ')}}` };
    }
    case 'ArrayExpression':
      return { code: `[${node.elements.map((e: Any) => expr(e, refs).code).join(', ')}]` };
    default:
      throw new UntranslatableExpression(`${node.type} is not translated`);
  }
}

function identifier(name: string): Translated {
  if (name === '$json') return { code: ITEM };
  if (name === '$now') return { code: '$now()', text: true };
  if (name === '$today') return { code: "$fromMillis($floor($millis() / 86400000) * 86400000)", text: true };
  if (name === 'undefined') return { code: 'undefined' };
  throw new UntranslatableExpression(`${name} is not translated`);
}

/** The message path for `$('Node')` / `$node["Node"]`: that node's output, kept on the message by the importer. */
function nodeOutput(name: string, refs: NodeRefs): Translated {
  refs.add(name);
  return { code: `n8n.${quoteJsonataName(name)}` };
}

function member(node: Any, refs: NodeRefs): Translated {
  const obj = node.object;
  const key = propertyName(node);
  // $input.item.json, $input.first().json, $('X').item.json, $node["X"].json: the item's json is a path prefix.
  if (key === 'json') {
    const item = itemSource(obj, refs);
    if (item) return item;
  }
  if (obj.type === 'Identifier' && obj.name === '$node') throw new UntranslatableExpression(`$node["${key ?? '?'}"] is translated only as $node["${key ?? '?'}"].json`);
  if (obj.type === 'Identifier' && obj.name === '$env' && key !== undefined) return { code: `$env(${str(key)})`, text: true };
  const base = expr(obj, refs);
  if (key === 'length') return { code: `($type(${base.code}) = "array" ? $count(${base.code}) : $length(${base.code}))` };
  if (!node.computed || node.property.type === 'Literal') {
    if (key === undefined) throw new UntranslatableExpression('computed member');
    if (/^\d+$/.test(key)) return { code: `${base.code}[${key}]` };
    return { code: `${base.code}.${quoteJsonataName(key)}` };
  }
  return { code: `${base.code}[${expr(node.property, refs).code}]` };
}

function propertyName(node: Any): string | undefined {
  if (!node.computed && node.property.type === 'Identifier') return node.property.name;
  if (node.property.type === 'Literal') return String(node.property.value);
  return undefined;
}

/** The object whose `.json` is an item: $input.item, $input.first(), $('X').item/first()/last(), $node["X"], $item(0). */
function itemSource(obj: Any, refs: NodeRefs): Translated | undefined {
  if (obj.type === 'MemberExpression' && propertyName(obj) === 'item') {
    const src = obj.object;
    if (src.type === 'Identifier' && src.name === '$input') return { code: ITEM };
    if (isNodeCall(src)) return nodeOutput(src.arguments[0].value, refs);
  }
  if (obj.type === 'CallExpression' && obj.callee.type === 'MemberExpression' && ['first', 'last'].includes(propertyName(obj.callee) ?? '')) {
    const src = obj.callee.object;
    if (src.type === 'Identifier' && src.name === '$input') return { code: ITEM };
    if (isNodeCall(src)) return nodeOutput(src.arguments[0].value, refs);
  }
  if (obj.type === 'MemberExpression' && obj.object.type === 'Identifier' && obj.object.name === '$node') {
    const name = propertyName(obj);
    if (name !== undefined) return nodeOutput(name, refs);
  }
  return undefined;
}

const isNodeCall = (node: Any) =>
  node.type === 'CallExpression' && node.callee.type === 'Identifier' && node.callee.name === '$' && node.arguments.length === 1 && node.arguments[0].type === 'Literal' && typeof node.arguments[0].value === 'string';

const GLOBAL_CALLS: Record<string, (args: string[]) => Translated> = {
  'Number': (a) => ({ code: `$number(${a[0]})` }),
  'String': (a) => ({ code: `$string(${a[0]})`, text: true }),
  'Boolean': (a) => ({ code: `$boolean(${a[0]})` }),
  'parseInt': (a) => ({ code: `$floor($number(${a[0]}))` }),
  'parseFloat': (a) => ({ code: `$number(${a[0]})` }),
  'JSON.stringify': (a) => ({ code: `$string(${a[0]})`, text: true }),
  'JSON.parse': (a) => ({ code: `$eval(${a[0]})` }),
  // JavaScript rounds halves up (2.5 → 3, -2.5 → -2); JSONata's $round rounds them to even.
  'Math.round': (a) => ({ code: `$floor((${a[0]}) + 0.5)` }),
  'Math.floor': (a) => ({ code: `$floor(${a[0]})` }),
  'Math.ceil': (a) => ({ code: `$ceil(${a[0]})` }),
  'Math.abs': (a) => ({ code: `$abs(${a[0]})` }),
  'Math.max': (a) => ({ code: `$max([${a.join(', ')}])` }),
  'Math.min': (a) => ({ code: `$min([${a.join(', ')}])` }),
  'Math.random': () => ({ code: '$random()' }),
  // An array always, as in JavaScript: JSONata's $keys gives nothing for {} and a lone string for one key.
  'Object.keys': (a) => ({ code: `[$keys(${a[0]})]` }),
  'Date.now': () => ({ code: '$millis()' }),
};

const METHODS: Record<string, (self: string, args: string[]) => Translated> = {
  toUpperCase: (s) => ({ code: `$uppercase(${s})`, text: true }),
  toLowerCase: (s) => ({ code: `$lowercase(${s})`, text: true }),
  trim: (s) => ({ code: `$trim(${s})`, text: true }),
  toString: (s: string) => ({ code: `$string(${s})`, text: true }),
  toISOString: (s) => ({ code: `$string(${s})`, text: true }),
  includes: (s, a) => ({ code: `($type(${s}) = "array" ? ${a[0]} in ${s} : $contains(${s}, ${a[0]}))` }),
  startsWith: (s, a) => ({ code: `($substring(${s}, 0, $length(${a[0]})) = ${a[0]})` }),
  endsWith: (s, a) => ({ code: `($substring(${s}, -$length(${a[0]})) = ${a[0]})` }),
  split: (s, a) => ({ code: `$split(${s}, ${a[0]})` }),
  join: (s, a) => ({ code: `$join(${s}, ${a[0] ?? '","'})`, text: true }),
  // JavaScript replaces the first occurrence only (for a string pattern).
  replace: (s, a) => ({ code: `$replace(${s}, ${a[0]}, ${a[1]}, 1)`, text: true }),
  replaceAll: (s, a) => ({ code: `$replace(${s}, ${a[0]}, ${a[1]})`, text: true }),
  slice: (s, a) => ({ code: a.length > 1 ? `$substring(${s}, ${a[0]}, (${a[1]}) - (${a[0]}))` : `$substring(${s}, ${a[0]})`, text: true }),
  toFixed: (s, a) => ({ code: `$formatNumber(${s}, "0.${'0'.repeat(Number(a[0] ?? 0))}")`, text: true }),
  keys: (s: string) => ({ code: `$keys(${s})` }),
};

function call(node: Any, refs: NodeRefs): Translated {
  const callee = node.callee;
  const args = () => node.arguments.map((a: Any) => expr(a, refs).code);
  const name = callee.type === 'Identifier' ? callee.name
    : callee.type === 'MemberExpression' && callee.object.type === 'Identifier' && !callee.computed ? `${callee.object.name}.${callee.property.name}` : undefined;
  if (name && GLOBAL_CALLS[name]) return GLOBAL_CALLS[name]!(args());
  if (callee.type === 'MemberExpression') {
    const method = propertyName(callee);
    if (method && METHODS[method]) {
      if (method === 'toFixed' && node.arguments[0] && node.arguments[0].type !== 'Literal') throw new UntranslatableExpression('toFixed with a computed digit count');
      return METHODS[method]!(expr(callee.object, refs).code, method === 'toFixed' ? node.arguments.map((a: Any) => String(a.value)) : args());
    }
    throw new UntranslatableExpression(`method .${method ?? '?'}() is not translated`);
  }
  throw new UntranslatableExpression(`call of ${name ?? 'an expression'} is not translated`);
}

/** A number literal, or arithmetic on number literals (+ of those never concatenates). */
function isNumeric(node: Any): boolean {
  if (node.type === 'Literal') return typeof node.value === 'number';
  if (node.type === 'UnaryExpression') return node.operator === '-' || node.operator === '+' ? true : false;
  if (node.type === 'BinaryExpression') return node.operator !== '+' || (isNumeric(node.left) && isNumeric(node.right));
  return false;
}
