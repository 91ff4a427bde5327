/** Flow-control and sequence nodes added for Node-RED imports: trigger, range, filter (rbe), sort, batch, link call and return. */
import type { NodeDefinition } from '@flowcrew/sdk';
import { batchNode } from './sequence/batch.ts';
import { filterNode } from './sequence/filter.ts';
import { linkCallNode, linkReturnNode } from './sequence/link-call.ts';
import { rangeNode } from './sequence/range.ts';
import { sortNode } from './sequence/sort.ts';
import { triggerNode } from './sequence/trigger.ts';

export const sequenceNodes: NodeDefinition[] = [triggerNode, rangeNode, filterNode, sortNode, batchNode, linkCallNode, linkReturnNode];
