/**
 * filter: Node-RED's filter node (type "rbe", report by exception). Passes a message only when its value changed
 * (rbe, rbei), or changed by more than / less than a gap (deadband, narrowband), per topic.
 */
import { isDeepStrictEqual } from 'node:util';
import { defineNode } from '@flowcrew/sdk';
import { cloneMessage, hasOwn } from '@flowcrew/sdk/util';
import { assertPropertyExpression, getMessagePropertyOrUndefined } from '@flowcrew/sdk/util';

export interface FilterProps {
  /**
   * rbe: only when the value changed; rbei: the same, ignoring the first value; deadband / deadbandEq: only when a
   * number moved more than (or at least) the gap; narrowband / narrowbandEq: only when it moved less than (or at most) it.
   */
  func: 'rbe' | 'rbei' | 'deadband' | 'deadbandEq' | 'narrowband' | 'narrowbandEq';
  /** The gap: a number, or a percentage of the previous value ("10%"). */
  gap: string;
  /** narrowband: the value compared against first ('' = the first value received). */
  start: string;
  /** Compare with the last value that passed (out) or the last value received (in). */
  inout: 'out' | 'in';
  /** Keep a value per topic. */
  septopics: boolean;
  property: string;
  /** The property that names a topic. */
  topi: string;
}

export const filterNode = defineNode<Partial<FilterProps>>({
  type: 'filter',
  category: 'flow',
  label: 'filter',
  icon: 'filter_alt',
  color: '#e2d96e',
  inputs: 1,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      func: { type: 'string', enum: ['rbe', 'rbei', 'deadband', 'deadbandEq', 'narrowband', 'narrowbandEq'], default: 'rbe', title: 'Mode' },
      gap: { type: 'string', default: '', pattern: '^\\s*(-?[0-9.]+\\s*%?)?\\s*$', title: 'Gap', description: 'A number, or a percentage of the previous value, e.g. 10%' },
      start: { type: 'string', default: '', title: 'Start value (narrowband)' },
      inout: { type: 'string', enum: ['out', 'in'], default: 'out', title: 'Compare with', description: 'out: the last value sent; in: the last value received' },
      septopics: { type: 'boolean', default: true, title: 'Separately for each topic' },
      property: { type: 'string', default: 'payload', title: 'Property' },
      topi: { type: 'string', default: 'topic', title: 'Topic property' },
    },
  },
  help: `Passes a message only when its value has changed enough. Works like Node-RED's filter (rbe) node.

### Properties
- **Mode**:
  - \`rbe\`: block unless the value changed (objects and arrays are compared deeply); \`rbei\`: the same, and the first value is blocked too.
  - \`deadband\`: block unless a number moved by more than the **Gap** (\`deadbandEq\`: by at least the gap).
  - \`narrowband\`: block if a number moved by more than the **Gap** (\`narrowbandEq\`: by at least the gap), e.g. to drop outliers;
    **Start value (narrowband)** is the value the first message is compared with.
- **Gap**: a number, or a percentage of the previous value (\`10%\`).
- **Compare with**: compare with the last value sent (\`out\`) or the last value received (\`in\`).
- **Separately for each topic**: keep the last value per topic (the **Topic property** property, default \`topic\`).
- **Property**: the value compared (default \`payload\`).

### Input
\`msg.reset\` forgets the stored value (of the message's topic when kept per topic, else all). Messages without the
property are dropped; in the band modes, a value that is not a number is dropped with a warning.
`,
  create({ props, log }) {
    const func = props.func || 'rbe';
    const property = props.property || 'payload';
    const topicProperty = props.topi || 'topic';
    assertPropertyExpression(property, 'property');
    assertPropertyExpression(topicProperty, 'topic property');
    const gapText = String(props.gap || '0');
    const percent = gapText.trim().endsWith('%');
    const gapValue = Number.parseFloat(gapText);
    const start = props.start || '';
    const inout = props.inout || 'out';
    const septopics = props.septopics !== false;
    // Node-RED keeps this in memory: a redeploy or restart forgets it.
    let previous = new Map<string, unknown>();

    return {
      onInput(msg) {
        const topic = getMessagePropertyOrUndefined(msg, topicProperty);
        if (hasOwn(msg, 'reset')) {
          if (septopics && typeof topic === 'string' && topic !== '') previous.delete(topic);
          else previous = new Map();
        }
        const value = getMessagePropertyOrUndefined(msg, property);
        if (value === undefined) return null;
        const t = septopics && topic ? String(topic) : '_no_topic';
        if (func === 'rbe' || func === 'rbei') {
          const send = func !== 'rbei' || previous.has(t);
          const last = previous.get(t);
          const same = typeof value === 'object' && value !== null ? typeof last === 'object' && isDeepStrictEqual(value, last) : value === last;
          if (same) return null;
          previous.set(t, cloneMessage(value));
          return send ? msg : null;
        }
        const n = Number.parseFloat(String(value));
        if (Number.isNaN(n)) {
          log.warn('filter: the value is not a number');
          return null;
        }
        if (!previous.has(t) && (func === 'narrowband' || func === 'narrowbandEq')) previous.set(t, start === '' ? n : Number(start));
        const gap = percent ? Math.abs(((previous.get(t) as number | undefined) ?? Number.NaN) * gapValue / 100) || 0 : gapValue || 0;
        if (!previous.has(t) && func === 'narrowbandEq') previous.set(t, n);
        if (!previous.has(t)) previous.set(t, n - gap - 1);
        const moved = Math.abs(n - (previous.get(t) as number));
        let pass = false;
        if (moved === gap) pass = func === 'deadbandEq' || func === 'narrowband';
        else if (moved > gap) pass = func === 'deadband' || func === 'deadbandEq';
        else pass = func === 'narrowband' || func === 'narrowbandEq';
        if (pass && inout === 'out') previous.set(t, n);
        if (inout === 'in') previous.set(t, n);
        return pass ? msg : null;
      },
    };
  },
});
