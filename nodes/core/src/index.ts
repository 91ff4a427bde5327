/** The core node pack: what every flow needs. Loaded by the registry like any third-party pack. */
import type { NodeDefinition } from '@flowcrew/sdk';
import { ioNodes } from './io-nodes.ts';
import { netNodes } from './net-nodes.ts';
import { parserNodes } from './parser-nodes.ts';
import { sequenceNodes } from './sequence-nodes.ts';
import { transformNodes } from './transform-nodes.ts';

export const nodes: NodeDefinition[] = [...ioNodes, ...transformNodes, ...sequenceNodes, ...parserNodes, ...netNodes];
export default nodes;
