/**
 * html: Node-RED's html node. Picks the elements matching a CSS selector out of an HTML document with cheerio (the
 * library Node-RED uses) and returns their HTML, text, attributes or all of these, in one message or one per element.
 */
import { defineNode, type FlowMessage } from '@flowcrew/sdk';
import { cloneMessage, hasOwn } from '@flowcrew/sdk/util';
import { assertPropertyExpression, getMessagePropertyOrUndefined, setMessageProperty } from '@flowcrew/sdk/util';
import { loadCheerio } from '../shared/libs.ts';

export interface HtmlProps {
  property: string;
  /** Where the result goes (default: the input property). */
  outproperty: string;
  /** The CSS selector ('' = msg.select). */
  tag: string;
  /** html: each element's inner HTML; text: its text; attr: its attributes; compl: attributes plus the HTML under `chr`. */
  ret: 'html' | 'text' | 'attr' | 'compl';
  /** single: one message with an array; multi: a message per element (a sequence, msg.parts). */
  as: 'single' | 'multi';
  chr: string;
}

export const htmlNode = defineNode<Partial<HtmlProps>>({
  type: 'html',
  category: 'parser',
  label: 'html',
  icon: 'html',
  color: '#DEBD5C',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      property: { type: 'string', default: 'payload', title: 'Property' },
      outproperty: { type: 'string', default: '', title: 'Output property', description: 'Empty: the input property' },
      tag: { type: 'string', default: '', title: 'Selector', description: 'A CSS selector; empty: msg.select' },
      ret: { type: 'string', enum: ['html', 'text', 'attr', 'compl'], default: 'html', title: 'Output' },
      as: { type: 'string', enum: ['single', 'multi'], default: 'single', title: 'As', description: 'single: one message with an array; multi: one message per element' },
      chr: { type: 'string', default: '_', title: 'Key of the HTML (compl)' },
    },
  },
  help: `Extracts elements from an HTML document with a CSS selector. Works like Node-RED's html node (same library, cheerio).

### Properties
- **Selector**: the CSS selector, e.g. \`ul li a\`; empty: \`msg.select\`.
- **Output**: what to return for each element: \`html\` (its inner HTML), \`text\` (its text), \`attr\` (its attributes),
  \`compl\` (its attributes, plus its inner HTML under **Key of the HTML (compl)**, default \`_\`).
- **As**: \`single\`: one message whose **Output property** is an array (empty when nothing matches); \`multi\`: one message per
  element, as a sequence (\`msg.parts\`) a join node can combine.
- **Property** / **Output property**: where the HTML is read from (default \`payload\`) and where the result goes.

### Input
A message without the property passes unchanged.
`,
  async create({ props }) {
    const { load } = await loadCheerio(); // imported when an html node is deployed, not at start
    const property = props.property || 'payload';
    const outproperty = props.outproperty || property;
    const ret = props.ret || 'html';
    const as = props.as || 'single';
    const chr = props.chr || '_';
    assertPropertyExpression(property, 'property');
    assertPropertyExpression(outproperty, 'output property');
    return {
      onInput(msg) {
        const value = getMessagePropertyOrUndefined(msg, property);
        if (value === undefined) return msg;
        const tag = props.tag || (hasOwn(msg, 'select') ? String(msg.select) : '');
        const $ = load(Buffer.isBuffer(value) ? value.toString() : String(value));
        const elements = $(tag).toArray();
        const pick = (el: (typeof elements)[number]): unknown => {
          const attribs = 'attribs' in el ? { ...(el.attribs as Record<string, string>) } : {};
          if (ret === 'html') return load(($(el).html() ?? '').trim(), null, false).xml();
          if (ret === 'text') return $(el).text();
          if (ret === 'attr') return attribs;
          return { [chr]: ($(el).html() ?? '').trim(), ...attribs };
        };
        if (as === 'single') {
          setMessageProperty(msg, outproperty, elements.map(pick));
          return msg;
        }
        const out: FlowMessage[] = [];
        elements.forEach((el, index) => {
          const picked = pick(el);
          if (!picked) return; // Node-RED skips an empty result (e.g. text "")
          const each = cloneMessage(msg);
          setMessageProperty(each, outproperty, picked);
          each.parts = { id: msg._msgid, index, count: elements.length, type: 'string', ch: '' };
          out.push(each);
        });
        return [out];
      },
    };
  },
});
