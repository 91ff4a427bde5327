import type { NodeDefinition } from "@flowcrew/sdk";
export const nodes: NodeDefinition[] = [];
