/** The transform nodes of the core pack: Node-RED's change, switch, template, json, csv, yaml, split, join, plus jsonata. */
import type { NodeDefinition } from '@flowcrew/sdk';
import { changeNode } from './transform/change.ts';
import { csvNode } from './transform/csv.ts';
import { joinNode } from './transform/join.ts';
import { jsonNode } from './transform/json.ts';
import { jsonataNode } from './transform/jsonata.ts';
import { splitNode } from './transform/split.ts';
import { switchNode } from './transform/switch.ts';
import { templateNode } from './transform/template.ts';
import { yamlNode } from './transform/yaml.ts';

export const transformNodes: NodeDefinition[] = [changeNode, switchNode, jsonataNode, templateNode, jsonNode, csvNode, yamlNode, splitNode, joinNode];
