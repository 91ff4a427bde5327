/** Parser nodes added for Node-RED imports: xml, html. */
import type { NodeDefinition } from '@flowcrew/sdk';
import { htmlNode } from './parsers/html.ts';
import { xmlNode } from './parsers/xml.ts';

export const parserNodes: NodeDefinition[] = [xmlNode, htmlNode];
