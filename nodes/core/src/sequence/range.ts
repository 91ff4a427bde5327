/** range: Node-RED's range node. Maps a number from one range to another (scale, clamp, roll over, or drop). */
import { defineNode } from '@flowcrew/sdk';
import { assertPropertyExpression, getMessagePropertyOrUndefined, setMessageProperty } from '@flowcrew/sdk/util';

export interface RangeProps {
  /** scale: linear, values outside pass scaled; clamp: limited to the input range first; roll: wrapped into it; drop: outside dropped. */
  action: 'scale' | 'clamp' | 'roll' | 'drop';
  minin: number | string;
  maxin: number | string;
  minout: number | string;
  maxout: number | string;
  /** Round the result to the nearest integer. */
  round: boolean;
  property: string;
}

export const rangeNode = defineNode<Partial<RangeProps>>({
  type: 'range',
  category: 'transform',
  label: 'range',
  icon: 'straighten',
  color: '#e2d96e',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      action: { type: 'string', enum: ['scale', 'clamp', 'roll', 'drop'], default: 'scale', title: 'Action' },
      minin: { type: ['number', 'string'], default: '', title: 'Input from' },
      maxin: { type: ['number', 'string'], default: '', title: 'Input to' },
      minout: { type: ['number', 'string'], default: '', title: 'Output from' },
      maxout: { type: ['number', 'string'], default: '', title: 'Output to' },
      round: { type: 'boolean', default: false, title: 'Round to the nearest integer' },
      property: { type: 'string', default: 'payload', title: 'Property' },
    },
  },
  help: `Maps a numeric value from one range to another. Works like Node-RED's range node.

### Properties
- **Input from**, **Input to**: the input range; **Output from**, **Output to**: the output range (the ranges may be reversed).
- **Action**:
  - \`scale\`: map linearly; values outside the input range map outside the output range.
  - \`clamp\`: limit the value to the input range first.
  - \`roll\`: wrap the value into the input range first (e.g. angles).
  - \`drop\`: drop messages whose value is outside the input range.
- **Round to the nearest integer**: round the result to the nearest integer.
- **Property**: the message property holding the number (default \`payload\`).

### Input
A message whose property is a number or a numeric string. A message without the property passes unchanged; one
whose value is not a number is dropped, with a log line.
`,
  create({ props, log }) {
    const property = props.property || 'payload';
    assertPropertyExpression(property, 'property');
    let minin = Number(props.minin);
    let maxin = Number(props.maxin);
    let minout = Number(props.minout);
    let maxout = Number(props.maxout);
    if (minin > maxin) [minin, maxin, minout, maxout] = [maxin, minin, maxout, minout];
    const round = props.round === true;
    if (round) {
      maxout = Math.floor(maxout);
      minout = Math.ceil(minout);
    }
    return {
      onInput(msg) {
        const value = getMessagePropertyOrUndefined(msg, property);
        if (value === undefined) return msg;
        let n = Number(value);
        if (Number.isNaN(n)) {
          log.info(`range: the value is not a number: ${String(value)}`);
          return null;
        }
        if (props.action === 'drop' && (n < minin || n > maxin)) return null;
        if (props.action === 'clamp') n = Math.min(Math.max(n, minin), maxin);
        if (props.action === 'roll') {
          const divisor = maxin - minin;
          n = (((n - minin) % divisor) + divisor) % divisor + minin;
        }
        let result = ((n - minin) / (maxin - minin)) * (maxout - minout) + minout;
        if (round) result = Math.round(result);
        setMessageProperty(msg, property, result);
        return msg;
      },
    };
  },
});
