/**
 * split (Node-RED's "split" node): one message per part of a string, array, object or buffer, each carrying
 * msg.parts so that a join node can put the whole back together.
 */
import { defineNode, type FlowMessage } from '@flowcrew/sdk';
import { cloneMessage, generateId, hasOwn } from '@flowcrew/sdk/util';
import { assertPropertyExpression, getMessagePropertyOrUndefined, setMessageProperty } from '@flowcrew/sdk/util';
import { CarriedState, invocationKey } from '../sequence/kept-state.ts';

export interface SplitProps {
  /** Separator (str), JSON byte array (bin) or length (len) for strings and buffers. */
  splt: string;
  spltType: 'str' | 'bin' | 'len';
  /** Array chunk length. */
  arraySplt: number | string;
  arraySpltType: 'len';
  /** Handle a stream of strings/buffers: keep the unterminated last part and prepend it to the next message. */
  stream: boolean;
  /** When splitting an object, also copy each key to this message property (e.g. 'topic'); '' for none. */
  addname: string;
  /** The message property split (Node-RED 4; default payload); a join in automatic mode puts the whole back there. */
  property?: string;
}

/** What a stream split carries to the next message: the part counter and the unterminated rest (buffer as base64). */
interface StreamState {
  c: number;
  remainder: string;
  buffer: string;
}

interface Parts {
  id: string;
  type?: 'string' | 'array' | 'object' | 'buffer';
  index?: number;
  count?: number;
  ch?: unknown;
  key?: string;
  len?: number;
  parts?: unknown;
  property?: string;
}

/** Node-RED's escapes for a split separator or join joiner ("\e" really does become "e" there). */
export function unescapeSeparator(s: string): string {
  return s.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\t/g, '\t').replace(/\\e/g, 'e').replace(/\\f/g, '\f').replace(/\\0/g, '\0');
}

class Splitter {
  private readonly stream: boolean;
  private readonly spltType: string;
  private readonly splt: string | Buffer | number;
  private readonly spltBuffer?: number[];
  private readonly arraySplt: number;
  private readonly addname: string;
  private readonly property: string;
  /** Index of the next part (counts on across messages in stream mode). */
  private c = 0;
  private remainder = '';
  private buffer = Buffer.alloc(0);

  constructor(props: Partial<SplitProps>) {
    this.stream = props.stream === true;
    this.spltType = props.spltType || 'str';
    this.addname = props.addname || '';
    this.property = props.property || 'payload';
    assertPropertyExpression(this.property, 'property');
    try {
      if (this.spltType === 'str') this.splt = unescapeSeparator(props.splt || '\\n');
      else if (this.spltType === 'bin') {
        const bytes: unknown = JSON.parse(String(props.splt));
        if (!Array.isArray(bytes)) throw new Error('not an array');
        this.splt = Buffer.from(bytes as number[]);
        this.spltBuffer = bytes as number[];
      } else if (this.spltType === 'len') {
        this.splt = parseInt(String(props.splt), 10);
        if (isNaN(this.splt) || this.splt < 1) throw new Error(`invalid split length: ${String(props.splt)}`);
      } else throw new Error(`unknown split type: ${this.spltType}`);
      this.arraySplt = props.arraySplt === undefined ? 1 : parseInt(String(props.arraySplt), 10);
      if (isNaN(this.arraySplt) || this.arraySplt < 1) throw new Error(`invalid array split length: ${String(props.arraySplt)}`);
    } catch (error) {
      throw new Error(`Invalid split property: ${String(error)}`);
    }
  }

  /** Carry on from a stream's state (kept in context, so a restart continues the stream). */
  resume(state: StreamState): void {
    this.c = state.c;
    this.remainder = state.remainder;
    this.buffer = Buffer.from(state.buffer, 'base64');
  }

  leftover(): StreamState {
    return { c: this.c, remainder: this.remainder, buffer: this.buffer.toString('base64') };
  }

  /** Set the split property of a part (msg.payload by default). */
  private put(msg: FlowMessage, value: unknown): void {
    if (this.property === 'payload') msg.payload = value;
    else setMessageProperty(msg, this.property, value);
  }

  handle(msg: FlowMessage): FlowMessage[] {
    const payload = this.property === 'payload' ? (hasOwn(msg, 'payload') ? msg.payload : undefined) : getMessagePropertyOrUndefined(msg, this.property);
    if (payload === undefined) return [];
    // An incoming sequence is kept underneath (msg.parts.parts), so nested split/join pairs work.
    const parts: Parts = { id: generateId(), ...(hasOwn(msg, 'parts') ? { parts: msg.parts } : {}) };
    if (this.property !== 'payload') parts.property = this.property;
    msg.parts = parts;
    delete msg._msgid;
    const out: FlowMessage[] = [];
    const send = () => out.push(cloneMessage(msg));
    if (typeof payload === 'string') this.splitString(msg, parts, payload, send);
    else if (Array.isArray(payload)) {
      parts.type = 'array';
      const count = Math.ceil(payload.length / this.arraySplt);
      parts.count = count;
      parts.len = this.arraySplt;
      for (let i = 0, pos = 0; i < count; i++, pos += this.arraySplt) {
        const chunk = payload.slice(pos, pos + this.arraySplt);
        this.put(msg, this.arraySplt === 1 ? chunk[0] : chunk);
        parts.index = i;
        send();
      }
    } else if (Buffer.isBuffer(payload)) this.splitBuffer(msg, parts, payload, send);
    else if (typeof payload === 'object' && payload !== null) {
      const keys = Object.keys(payload);
      parts.type = 'object';
      keys.forEach((key, index) => {
        this.put(msg, (payload as Record<string, unknown>)[key]);
        if (this.addname !== '') msg[this.addname] = key;
        parts.key = key;
        parts.index = index;
        parts.count = keys.length;
        send();
      });
    }
    // Other payloads (numbers, booleans, null) are dropped, as in Node-RED.
    return out;
  }

  private splitString(msg: FlowMessage, parts: Parts, payload: string, send: () => void): void {
    const data = this.remainder + payload;
    parts.type = 'string';
    if (typeof this.splt === 'number') {
      const size = this.splt;
      parts.ch = '';
      parts.len = size;
      const count = Math.ceil(data.length / size);
      if (!this.stream) {
        parts.count = count;
        this.c = 0;
      }
      let pos = 0;
      for (let i = 0; i < count - 1; i++, pos += size) {
        this.put(msg, data.substring(pos, pos + size));
        parts.index = this.c++;
        send();
      }
      this.remainder = data.substring(pos);
      if (!this.stream || this.remainder.length === size) {
        this.put(msg, this.remainder);
        parts.index = this.c++;
        send();
        this.remainder = '';
      }
      return;
    }
    const separator = Buffer.isBuffer(this.splt) ? this.splt.toString() : this.splt;
    parts.ch = Buffer.isBuffer(this.splt) ? this.spltBuffer : this.splt; // lets join put the separator back
    this.sendArray(msg, parts, data.split(separator), send);
  }

  private sendArray(msg: FlowMessage, parts: Parts, pieces: string[], send: () => void): void {
    const lastIndex = pieces.length - 1;
    for (let i = 0; i < lastIndex; i++) {
      this.put(msg, pieces[i]);
      parts.index = this.c++;
      if (!this.stream) parts.count = pieces.length;
      send();
    }
    if (!this.stream) {
      this.put(msg, pieces[lastIndex]);
      parts.index = this.c++;
      parts.count = pieces.length;
      send();
      this.c = 0;
    } else this.remainder = pieces[lastIndex]!;
  }

  private splitBuffer(msg: FlowMessage, parts: Parts, payload: Buffer, send: () => void): void {
    const buff = Buffer.concat([this.buffer, payload]);
    parts.type = 'buffer';
    if (typeof this.splt === 'number') {
      const size = this.splt;
      const count = Math.ceil(buff.length / size);
      if (!this.stream) {
        parts.count = count;
        this.c = 0;
      }
      parts.len = size;
      let pos = 0;
      for (let i = 0; i < count - 1; i++, pos += size) {
        this.put(msg, buff.subarray(pos, pos + size));
        parts.index = this.c++;
        send();
      }
      this.buffer = buff.subarray(pos);
      if (!this.stream || this.buffer.length === size) {
        this.put(msg, this.buffer);
        parts.index = this.c++;
        send();
        this.buffer = Buffer.alloc(0);
      }
      return;
    }
    const separator = this.splt;
    const separatorLength = separator.length;
    parts.ch = Buffer.isBuffer(separator) ? this.spltBuffer : separator;
    let count = 1;
    for (let pos = buff.indexOf(separator); pos > -1; pos = buff.indexOf(separator, pos + separatorLength)) count++;
    if (!this.stream) {
      parts.count = count;
      this.c = 0;
    }
    let p = 0;
    for (let pos = buff.indexOf(separator); pos > -1; pos = buff.indexOf(separator, p)) {
      this.put(msg, buff.subarray(p, pos));
      parts.index = this.c++;
      send();
      p = pos + separatorLength;
    }
    if (!this.stream && p < buff.length) {
      this.put(msg, buff.subarray(p));
      parts.index = this.c++;
      parts.count = this.c++;
      send();
    } else this.buffer = buff.subarray(p);
  }
}

export const splitNode = defineNode<SplitProps>({
  type: 'split',
  category: 'flow',
  label: 'split',
  icon: 'call_split',
  color: '#E2D96E',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      splt: { type: ['string', 'number'], default: '\\n', title: 'Split strings/buffers using', description: 'A separator ("\\n" for newline), a JSON byte array (bin) or a length (len).' },
      spltType: { type: 'string', enum: ['str', 'bin', 'len'], default: 'str', title: 'Split type' },
      arraySplt: { type: ['integer', 'string'], default: 1, title: 'Array chunk length' },
      arraySpltType: { type: 'string', enum: ['len'], default: 'len', title: 'Array split type' },
      stream: { type: 'boolean', default: false, title: 'Handle as a stream of messages' },
      addname: { type: 'string', default: '', title: 'Copy object key to msg property', description: 'e.g. "topic"; empty for none.' },
      property: { type: 'string', default: 'payload', title: 'Property to split' },
    },
  },
  help: `Splits a message into a sequence of messages, like Node-RED's *split* node.

### Properties
- **Split strings/buffers using** / **Split type**: how strings and buffers are split: at each occurrence of a string (\`str\`, default
  \`\\n\`; \`\\t\`, \`\\r\` are understood), of a byte sequence given as a JSON array (\`bin\`, e.g. \`[13,10]\`), or
  into chunks of a fixed length (\`len\`).
- **arraySplt**: arrays are split into chunks of this many elements (default 1: one message per element, whose
  payload is the element itself).
- **stream**: treat successive string/buffer messages as one stream: the unterminated last part is kept and
  prepended to the next message, and the parts are numbered on (without \`msg.parts.count\`).
  The rest and the numbering are kept in the node's context, so a restart carries on with the stream.
- **addname**: when splitting an object, also copy each key into this message property (e.g. \`topic\`).
- **property**: the message property to split (default \`payload\`); each part carries its piece there, and
  \`msg.parts.property\` names it so a join in automatic mode puts the whole back in the same property.

### Inputs
\`msg.payload\`: a string, buffer, array or object. Other payloads are dropped.

### Outputs
1. One message per part. \`msg.payload\` is the part and \`msg.parts\` describes the sequence: \`id\` (shared by the
   sequence), \`index\`, \`count\`, \`type\` (\`string\`, \`buffer\`, \`array\` or \`object\`), \`ch\` (the separator),
   \`len\` (chunk length) and \`key\` (object key). An existing \`msg.parts\` is kept in \`msg.parts.parts\`.

A join node in automatic mode reverses the split.`,
  create({ props, context, log }) {
    const splitter = new Splitter(props);
    if (props.stream !== true) return { onInput: (msg) => [splitter.handle(msg)] };
    const carried = new CarriedState<StreamState>(context.node, 'split:stream', log, { c: 0, remainder: '', buffer: '' });
    return {
      onInput(msg, ctx) {
        const inv = invocationKey(ctx);
        const before = carried.begin(inv);
        splitter.resume(before);
        const out = splitter.handle(msg);
        const after = splitter.leftover();
        if (after.c !== before.c || after.remainder !== before.remainder || after.buffer !== before.buffer) carried.end(inv, before, after);
        return [out];
      },
    };
  },
});
