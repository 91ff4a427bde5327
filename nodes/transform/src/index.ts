/** @flowcrew/nodes-transform: check data against JSON Schema, and write rows to files / read them back, streamed. */
import { exportNode } from './export/node.ts';
import { importNode } from './import/node.ts';
import { validateNode } from './validate/node.ts';

export const nodes = [validateNode, exportNode, importNode];

export { exportNode, importNode, validateNode };
