/**
 * xml: Node-RED's xml node. Converts between an XML string and its JavaScript object, with xml2js (the library
 * Node-RED converts with, so both give the same objects): a string is parsed, an object is written as XML.
 * xml2js reads with sax, which expands no external entities (no XXE) and no entities a document defines.
 */
import { defineNode, type FlowMessage } from '@flowcrew/sdk';
import type { BuilderOptions, ParserOptions } from 'xml2js';
import { assertPropertyExpression, getMessagePropertyOrUndefined, setMessageProperty } from '@flowcrew/sdk/util';
import { loadXml2js } from '../shared/libs.ts';

export interface XmlProps {
  property: string;
  /** The key of attributes in the parsed object (default "$"). */
  attr: string;
  /** The key of an element's text when it has attributes too (default "_"). */
  chr: string;
}

/** xml2js options a message may set (msg.options), as Node-RED allows; functions cannot come from JSON. */
function messageOptions(msg: FlowMessage): Record<string, unknown> {
  return msg.options !== null && typeof msg.options === 'object' && !Array.isArray(msg.options) ? { ...(msg.options as Record<string, unknown>) } : {};
}

export const xmlNode = defineNode<Partial<XmlProps>>({
  type: 'xml',
  category: 'parser',
  label: 'xml',
  icon: 'code',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      property: { type: 'string', default: 'payload', title: 'Property' },
      attr: { type: 'string', default: '', title: 'Attribute key', description: 'Empty: "$"' },
      chr: { type: 'string', default: '', title: 'Text key', description: 'Empty: "_"' },
    },
  },
  help: `Converts between an XML string and its JavaScript object. Works like Node-RED's xml node (same library, xml2js).

### Properties
- **Property**: the message property to convert (default \`payload\`).
- **Attribute key**: the key under which an element's attributes are put (default \`$\`); **Text key**: the key of its text when it
  also has attributes (default \`_\`).

### Input
- A string: parsed into an object (each element's children as arrays, as xml2js does by default).
- An object: written as XML (no indentation).
- \`msg.options\`: xml2js options for this message (e.g. \`{ "explicitArray": false }\`, or builder options for objects).

A message without the property passes unchanged; another type of value is dropped with a warning; XML that does not
parse fails the node (catch nodes get the error).
`,
  async create({ props, log }) {
    const { Builder, parseStringPromise } = await loadXml2js(); // imported when an xml node is deployed, not at start
    const property = props.property || 'payload';
    assertPropertyExpression(property, 'property');
    return {
      async onInput(msg) {
        const value = getMessagePropertyOrUndefined(msg, property);
        if (value === undefined) return msg;
        if (value !== null && typeof value === 'object') {
          const options = msg.options !== undefined ? messageOptions(msg) : { renderOpts: { pretty: false } };
          setMessageProperty(msg, property, new Builder(options as BuilderOptions).buildObject(value));
          return msg;
        }
        if (typeof value === 'string') {
          const options = messageOptions(msg);
          options.attrkey = props.attr || options.attrkey || '$';
          options.charkey = props.chr || options.charkey || '_';
          setMessageProperty(msg, property, await parseStringPromise(value, options as ParserOptions));
          return msg;
        }
        log.warn('xml: the value is neither an XML string nor an object');
        return null;
      },
    };
  },
});
