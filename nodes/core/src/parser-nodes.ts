/** Parser nodes added for Node-RED imports: xml. */
import type { NodeDefinition } from '@flowcrew/sdk';
import { xmlNode } from './parsers/xml.ts';

export const parserNodes: NodeDefinition[] = [xmlNode];
