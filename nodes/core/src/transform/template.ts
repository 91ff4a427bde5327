/**
 * template (Node-RED's "template" node): render a mustache (or plain text) template from the message and
 * context, optionally parse the result as JSON or YAML, and store it in a message, flow or global property.
 */
import Mustache from 'mustache';
import { defineNode, type EnvReader, type FlowMessage } from '@flowcrew/sdk';
import { boundedMustache, type Tokens } from '../shared/bounded-mustache.ts';
import type { ContextScopes } from '@flowcrew/sdk/util';
import { evaluateEnv, hasOwn } from '@flowcrew/sdk/util';
import { parseJsonLimited, parseYamlLimited } from '../shared/parsers.ts';
import { assertPropertyExpression, getContextValue, parseContextKey, setContextValue, setMessageProperty } from '@flowcrew/sdk/util';

export interface TemplateProps {
  field: string;
  fieldType: 'msg' | 'flow' | 'global';
  syntax: 'mustache' | 'plain';
  template: string;
  output: 'str' | 'json' | 'yaml';
  /** Editor highlighting mode in Node-RED (handlebars, html, ...): no effect on the result. */
  format?: string;
}

/** `{{flow.name}}`, `{{global.name}}` and `{{flow[store].name}}` read context; the store name is ignored. */
function parseContextReference(name: string): { type: 'flow' | 'global'; field: string } | undefined {
  const match = /^(flow|global)(\[(\w+)\])?\.(.+)/.exec(name);
  return match ? { type: match[1] as 'flow' | 'global', field: match[4]! } : undefined;
}

/** `{{env.NAME}}` reads the flow's environment variable NAME (Node-RED's template node, 1.0+). */
const envReference = (name: string): string | undefined => /^env\.(.+)/.exec(name)?.[1];

/** Every name a template refers to, sections included. */
function templateNames(tokens: unknown[], names = new Set<string>()): Set<string> {
  for (const token of tokens as Array<[string, string, number, number, unknown[]?]>) {
    if (token[0] === 'text') continue;
    names.add(token[1]);
    if (token.length > 4 && Array.isArray(token[4])) templateNames(token[4], names);
  }
  return names;
}

/** Escape control characters of strings pasted into a JSON template so the result still parses. */
function escapeForJson(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r').replace(/\f/g, '\\f').replace(/[\b]/g, '\\b');
}

/**
 * Node-RED's mustache view: message properties first, then the flow./global. context values resolved before
 * rendering; anything else renders as an empty string.
 */
class MessageView extends Mustache.Context {
  constructor(
    private readonly msgContext: Mustache.Context,
    private readonly contextValues: Map<string, unknown>,
    private readonly escapeStrings: boolean,
  ) {
    super(msgContext.view, msgContext.parent);
  }

  override lookup(name: string): unknown {
    const value: unknown = this.msgContext.lookup(name);
    if (value !== undefined) return this.escapeStrings && typeof value === 'string' ? escapeForJson(value) : value;
    if (parseContextReference(name) || envReference(name)) return this.contextValues.get(name);
    return '';
  }

  override push(view: unknown): Mustache.Context {
    return new MessageView(new Mustache.Context(view, this.msgContext), this.contextValues, false);
  }
}

/** A parsed template and the flow./global. context and env. names it refers to. */
interface ParsedTemplate {
  template: string;
  tokens: Tokens;
  contextNames: string[];
}

function parseTemplate(template: string): ParsedTemplate {
  const tokens = boundedMustache.parse(template) as Tokens;
  return { template, tokens, contextNames: [...templateNames(tokens)].filter((name) => parseContextReference(name) || envReference(name)) };
}

function render(parsed: ParsedTemplate, msg: FlowMessage, contexts: ContextScopes, jsonOutput: boolean, env: EnvReader | undefined): string {
  const contextValues = new Map<string, unknown>();
  for (const name of parsed.contextNames) {
    const reference = parseContextReference(name);
    contextValues.set(name, reference ? getContextValue(contexts[reference.type], reference.field) : evaluateEnv(envReference(name), env));
  }
  return boundedMustache.renderBounded(parsed.tokens, parsed.template, new MessageView(new Mustache.Context(msg), contextValues, jsonOutput));
}

export const templateNode = defineNode<TemplateProps>({
  type: 'template',
  category: 'transform',
  label: 'template',
  icon: 'description',
  color: '#E6E0F8',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    required: ['template'],
    properties: {
      field: { type: 'string', default: 'payload', title: 'Property', description: 'Where the result goes.' },
      fieldType: { type: 'string', enum: ['msg', 'flow', 'global'], default: 'msg', title: 'Property type' },
      syntax: { type: 'string', enum: ['mustache', 'plain'], default: 'mustache', title: 'Syntax' },
      template: { type: 'string', default: 'This is the payload: {{payload}} !', title: 'Template', 'x-language': 'mustache', description: 'Empty: msg.template is used.' },
      output: { type: 'string', enum: ['str', 'json', 'yaml'], default: 'str', title: 'Output as' },
      format: { type: 'string', default: 'handlebars', title: 'Editor highlighting (Node-RED)', description: 'Kept from Node-RED imports; no effect on the result.' },
    },
  },
  help: `Builds text from a template, like Node-RED's *template* node.

### Properties
- **Template**: the template. With **Syntax** \`mustache\` (default), \`{{payload}}\`, \`{{topic}}\` or
  \`{{payload.name}}\` insert message properties (HTML-escaped; use \`{{{payload}}}\` for the raw value),
  \`{{flow.key}}\` and \`{{global.key}}\` insert flow and global context values, \`{{env.NAME}}\` the flow's variable NAME, and sections such as
  \`{{#payload.items}}...{{/payload.items}}\` repeat over arrays. Names that do not exist render as nothing.
  With \`plain\`, the template is used as it is. If the template is empty, \`msg.template\` is used instead.
  The editor previews the rendering against the node's last input.
- **Output as**: \`str\` keeps the text; \`json\` parses it as JSON (strings inserted from the message are escaped
  so that newlines and backslashes keep the JSON valid); \`yaml\` parses it as YAML.
- **Property**: where the result goes: a message property (default \`payload\`), or a \`flow\` or \`global\`
  context key.

### Inputs
Any message. \`msg.template\` supplies the template when the node's own template is empty.

### Outputs
1. The message, with the result in **field** (when it goes to context, the message passes unchanged).

### Errors
A mustache syntax error in the node's template is reported at deploy; a result that is not valid JSON/YAML
(with **Output as** \`json\`/\`yaml\`) fails the message.

### Limits
A rendering that takes longer than \`FLOWCREW_TEMPLATE_TIMEOUT_MS\` (100 ms) or writes more than
\`FLOWCREW_MAX_MESSAGE_BYTES\` characters fails the message with an error naming the limit. Parsed templates are
cached, at most \`FLOWCREW_TEMPLATE_CACHE_ENTRIES\` (1,000) of them, least recently used evicted first, so templates
sent in messages cannot grow the runtime's memory. JSON/YAML output is parsed under the same limits as the json and
yaml nodes.`,
  create({ props, context }) {
    const field = props.field || 'payload';
    const fieldType = props.fieldType || 'msg';
    const syntax = props.syntax || 'mustache';
    const output = props.output || 'str';
    const nodeTemplate = props.template ?? '';
    if (!['msg', 'flow', 'global'].includes(fieldType)) throw new Error(`unknown property type "${fieldType}"`);
    if (fieldType === 'msg') assertPropertyExpression(field, `property "${field}"`);
    // The node's own template is parsed once, here; a template from the message goes through the bounded cache.
    let nodeParsed: ParsedTemplate | undefined;
    if (syntax === 'mustache') {
      try {
        nodeParsed = parseTemplate(nodeTemplate);
      } catch (error) {
        throw new Error(`Invalid mustache template: ${(error as Error).message}`);
      }
    }
    return {
      onInput(msg) {
        const fromMessage = nodeTemplate === '' && hasOwn(msg, 'template');
        const template = fromMessage ? String(msg.template ?? '') : nodeTemplate;
        let value: unknown = template;
        if (syntax === 'mustache') value = render(fromMessage ? parseTemplate(template) : nodeParsed!, msg, context, output === 'json', context.env);
        if (output === 'json') value = parseJsonLimited(value as string, 'The rendered JSON');
        else if (output === 'yaml') value = parseYamlLimited(value as string, 'The rendered YAML');
        if (fieldType === 'msg') setMessageProperty(msg, field, value);
        else setContextValue(context[fieldType], parseContextKey(field), value);
        return msg;
      },
    };
  },
});
